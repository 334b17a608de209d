// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "strata",
    // Linux only (Glibc, inotify): SwiftPM has no Linux entry for
    // `platforms:`, so none is claimed; see README.md.
    products: [
        .executable(name: "strata", targets: ["strata"]),
        .library(name: "StrataCore", targets: ["StrataCore"]),
        .library(name: "StrataConfiguration", targets: ["StrataConfiguration"]),
        .library(name: "StrataAgent", targets: ["StrataAgent"]),
        .library(name: "StrataParsers", targets: ["StrataParsers"]),
        .library(name: "StrataStore", targets: ["StrataStore"]),
        .library(name: "StrataQuery", targets: ["StrataQuery"]),
        .library(name: "StrataQueryClient", targets: ["StrataQueryClient"]),
        .library(name: "StrataOutput", targets: ["StrataOutput"]),
        .library(name: "StrataServer", targets: ["StrataServer"]),
        .library(name: "StrataTemplates", targets: ["StrataTemplates"]),
        .library(name: "StrataDiagnosis", targets: ["StrataDiagnosis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Native libraries from Debian (libzstd-dev, liblz4-dev, zlib1g-dev, libre2-dev).
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(
            name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]),
        .target(
            name: "CRE2Shim", path: "Sources/CRE2Shim",
            cxxSettings: [.unsafeFlags(["-std=c++17"])],
            linkerSettings: [.linkedLibrary("re2"), .linkedLibrary("stdc++")]),

        // What Swift does not expose: the CRC-32C instruction, glibc's malloc tuning.
        .target(name: "CStrataNative", path: "Sources/CStrataNative"),
        .target(
            name: "StrataCore",
            dependencies: [
                "CZstd", "CLZ4", "CZlib", "CRE2Shim", "CStrataNative",
            ]),
        // Typed reading of YAML configurations, one error type for every configuration problem.
        .target(
            name: "StrataConfiguration",
            dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(
            name: "StrataAgent",
            dependencies: [
                "StrataCore", "StrataConfiguration", "CStrataNative",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .target(
            name: "StrataParsers",
            dependencies: [
                "StrataCore", "StrataConfiguration",
                .product(name: "Yams", package: "Yams"),
            ]),
        .target(
            name: "StrataStore",
            dependencies: [
                "StrataCore",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(name: "StrataQuery", dependencies: ["StrataCore", "StrataStore"]),
        // The query service over a collector's HTTP API (kept out of StrataQuery: no HTTP client there).
        .target(
            name: "StrataQueryClient",
            dependencies: [
                "StrataCore", "StrataQuery",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // What the command line prints: records, tables, charts, listings.
        .target(name: "StrataOutput", dependencies: ["StrataCore", "StrataStore", "StrataQuery", "StrataDiagnosis"]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "StrataServer",
            dependencies: [
                "StrataCore", "StrataConfiguration", "StrataStore", "StrataParsers", "StrataQuery", "StrataTemplates", "StrataDiagnosis",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                // HTTPParserError, and the HTTP parts between Hummingbird's codec and its handler
                // (ConnectionGuard).
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]),
        // Message template mining (constant text apart from variables).
        .target(name: "StrataTemplates"),
        // Incident detection, correlation across workloads and ranked reports.
        .target(
            name: "StrataDiagnosis",
            dependencies: [
                "StrataCore", "StrataTemplates",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // Realistic node log trees for the demo, benchmarks and tests.
        .target(name: "StrataSampleData", dependencies: ["StrataCore"]),
        // What the test targets and benchmark executables share (not in the `strata` product):
        // the seeded generator, scratch directories, loopback HTTP requests, scenario records as
        // stored records.
        .target(
            name: "StrataTestSupport",
            dependencies: [
                "StrataCore", "StrataSampleData",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/StrataTestSupport"),
        .executableTarget(
            name: "strata",
            dependencies: [
                "StrataCore", "StrataConfiguration", "StrataAgent", "StrataSampleData", "StrataServer", "StrataStore", "StrataParsers",
                "StrataQuery", "StrataQueryClient", "StrataOutput", "StrataTemplates", "StrataDiagnosis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Diagnosis accuracy on generated incidents with random topologies (not in the
        // `strata` product): swift build -c release --product DiagnosisScenarioBench
        .executableTarget(
            name: "DiagnosisScenarioBench", dependencies: ["StrataDiagnosis", "StrataSampleData", "StrataCore", "StrataTestSupport"],
            path: "benchmarks/diagnosis/scenarios", exclude: ["README.md"]),

        // Fuzz targets for every decoder and parser that reads input (docs/RELIABILITY.md,
        // "Fuzzing"): run bounded by StrataFuzzTests in `make test`, longer by `make fuzz`.
        .target(
            name: "StrataFuzzTargets",
            dependencies: ["StrataCore", "StrataConfiguration", "StrataQuery", "StrataServer", "StrataParsers", "StrataAgent", "StrataSampleData"],
            path: "fuzz/Targets"),
        // `strata-fuzz list|seeds|run`; under `make fuzz` built with -sanitize=fuzzer and
        // -DSTRATA_LIBFUZZER, where libFuzzer drives the same targets with coverage feedback.
        .executableTarget(name: "strata-fuzz", dependencies: ["StrataFuzzTargets", "StrataCore"], path: "fuzz/Driver"),

        .testTarget(name: "StrataCoreTests", dependencies: ["StrataTestSupport", "StrataCore"]),
        .testTarget(name: "StrataSampleDataTests", dependencies: ["StrataTestSupport", "StrataSampleData", "StrataCore"]),
        .testTarget(name: "StrataParsersTests", dependencies: ["StrataTestSupport", "StrataParsers", "StrataConfiguration", "StrataCore"]),
        .testTarget(name: "StrataStoreTests", dependencies: ["StrataTestSupport", "StrataStore", "StrataCore"]),
        .testTarget(name: "StrataQueryTests", dependencies: ["StrataTestSupport", "StrataQuery", "StrataStore", "StrataCore", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "StrataOutputTests", dependencies: ["StrataTestSupport", "StrataOutput", "StrataQuery", "StrataStore", "StrataDiagnosis", "StrataCore"]),
        .testTarget(name: "StrataTemplatesTests", dependencies: ["StrataTestSupport", "StrataTemplates"]),
        .testTarget(
            name: "StrataDiagnosisTests",
            dependencies: [
                "StrataTestSupport", "StrataDiagnosis", "StrataCore", "StrataSampleData",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(
            name: "StrataServerTests",
            dependencies: [
                "StrataTestSupport", "StrataServer", "StrataConfiguration", "StrataStore", "StrataQuery", "StrataCore", "StrataAgent", "StrataDiagnosis",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "StrataFuzzTests", dependencies: ["StrataFuzzTargets"], path: "fuzz/Tests"),
        .testTarget(
            name: "StrataAgentTests",
            dependencies: [
                "StrataTestSupport", "StrataAgent", "StrataConfiguration", "StrataCore", "StrataSampleData",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
    ],
    cxxLanguageStandard: .cxx17
)
