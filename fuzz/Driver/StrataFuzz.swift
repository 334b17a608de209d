#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataFuzzTargets

/// `strata-fuzz`: the fuzz targets outside the test suite (docs/RELIABILITY.md, "Fuzzing").
@main
struct StrataFuzz {
    static let usage = """
        usage: strata-fuzz list
               strata-fuzz seeds TARGET DIRECTORY      write the target's seed inputs as files
               strata-fuzz run TARGET|all [--seconds N] [--seed N] [--artifacts DIRECTORY]
               strata-fuzz replay TARGET FILE...        run saved inputs (e.g. libFuzzer's crash files)
               strata-fuzz libfuzzer TARGET [libFuzzer options] [CORPUS...]   (make fuzz builds this)
        """

    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard !arguments.isEmpty else { fail(usage) }
        let command = arguments.removeFirst()
        switch command {
        case "list":
            for target in FuzzTargets.all { print(target.name.padding(16) + target.summary) }
        case "seeds":
            guard arguments.count == 2 else { fail(usage) }
            let target = named(arguments[0])
            for (index, seed) in target.seeds.enumerated() {
                write(seed, to: arguments[1] + "/seed-\(index)")
            }
        case "run":
            run(arguments)
        case "replay":
            guard arguments.count >= 2 else { fail(usage) }
            let target = named(arguments[0])
            for path in arguments.dropFirst() {
                guard let input = try? FileSystem.readFile(path) else { fail("cannot read \(path)") }
                do {
                    let outcome = try target.run(input)
                    print("\(path): \(outcome)")
                } catch {
                    fail(error.description)
                }
            }
        case "libfuzzer":
            guard !arguments.isEmpty else { fail(usage) }
            runLibFuzzer(target: named(arguments[0]))
        case "-h", "--help", "help":
            print(usage)
        default:
            fail("unknown command '\(command)'\n" + usage)
        }
    }

    static func run(_ arguments: [String]) {
        guard let name = arguments.first else { fail(usage) }
        var seconds = 10.0
        var seed = UInt64(truncatingIfNeeded: WallClock.nowNanos())
        var artifacts = "."
        var rest = arguments.dropFirst()
        while let option = rest.popFirst() {
            guard let value = rest.popFirst() else { fail("\(option) needs a value") }
            switch option {
            case "--seconds": seconds = Double(value) ?? { fail("--seconds must be a number; found '\(value)'") }()
            case "--seed": seed = UInt64(value) ?? { fail("--seed must be an unsigned integer; found '\(value)'") }()
            case "--artifacts": artifacts = value
            default: fail("unknown option '\(option)'\n" + usage)
            }
        }
        let targets = name == "all" ? FuzzTargets.all : [named(name)]
        let perTarget = Int64(seconds * 1e9) / Int64(targets.count)
        for (index, target) in targets.enumerated() {
            var campaign = FuzzCampaign(target: target, seed: seed &+ UInt64(index))
            let started = WallClock.monotonicNanos()
            do {
                let statistics = try campaign.run(iterations: .max, deadline: started + perTarget)
                let elapsed = Double(WallClock.monotonicNanos() - started) / 1e9
                print("\(target.name.padding(16)) \(statistics.executions) inputs in \(String(format1: elapsed)) s, \(statistics.outcomes) outcomes, corpus \(statistics.corpusSize), seed \(seed &+ UInt64(index)): no finding")
            } catch {
                let path = artifacts + "/finding-\(target.name)-\(seed &+ UInt64(index))"
                write(error.input, to: path)
                fail("\(error.description)\nthe input is saved in \(path); replay it with: strata-fuzz replay \(target.name) \(path)")
            }
        }
    }

    static func named(_ name: String) -> FuzzTarget {
        guard let target = FuzzTargets.named(name) else {
            fail("no fuzz target '\(name)'; the targets are: " + FuzzTargets.all.map(\.name).joined(separator: ", "))
        }
        return target
    }

    static func write(_ bytes: [UInt8], to path: String) {
        do {
            try FileSystem.writeDurably(bytes, to: path)
        } catch {
            fail("cannot write \(path): \(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandleStandardError.write(message + "\n")
        exit(1)
    }
}

#if STRATA_LIBFUZZER
// libFuzzer's own entry (compiler-rt): it parses its options, drives the callback with
// coverage-guided inputs and saves crashing ones.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

nonisolated(unsafe) private var libFuzzerTarget: FuzzTarget?

extension StrataFuzz {
    static func runLibFuzzer(target: FuzzTarget) -> Never {
        libFuzzerTarget = target
        // libFuzzer sees the program name and what follows the target name.
        var arguments = [CommandLine.arguments[0]] + CommandLine.arguments.dropFirst(3)
        if !arguments.contains(where: { $0.hasPrefix("-max_len=") }) { arguments.append("-max_len=\(target.maxInputBytes)") }
        var pointers = arguments.map { strdup($0) } + [nil]
        var argc = CInt(arguments.count)
        let status = pointers.withUnsafeMutableBufferPointer { buffer -> CInt in
            guard var argv = buffer.baseAddress else { return 1 }
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                guard let target = libFuzzerTarget else { return 0 }
                let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
                do throws(FuzzFinding) {
                    try target.run(input)
                } catch {
                    FileHandleStandardError.write(error.description + "\n")
                    abort()  // libFuzzer saves the input as a crash artifact
                }
                return 0
            }
        }
        exit(status)
    }
}
#else
extension StrataFuzz {
    static func runLibFuzzer(target: FuzzTarget) -> Never {
        fail("this strata-fuzz is built without libFuzzer; use `make fuzz`, or `strata-fuzz run \(target.name)` for the built-in loop")
    }
}
#endif

private enum FileHandleStandardError {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
    fileprivate init(format1 value: Double) { self = String(Double(Int(value * 10)) / 10) }
}
