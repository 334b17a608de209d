import Foundation
import StrataConfiguration
import StrataCore
import StrataTestSupport
import XCTest

@testable import StrataParsers

final class ConfigurationErrorTests: XCTestCase {
    func error(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigurationError? {
        do {
            let configuration = try NormalizerConfiguration(yaml: yaml)
            try configuration.validate(against: .builtins)
            XCTFail("accepted: \(yaml)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func assertKey(_ yaml: String, _ key: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let e = error(yaml, file: file, line: line) else { return }
        XCTAssertEqual(e.key, key, e.description, file: file, line: line)
        XCTAssertTrue(e.description.contains(fragment), e.description, file: file, line: line)
        XCTAssertTrue(e.description.hasPrefix("\(key): ") || key.isEmpty, e.description, file: file, line: line)
    }

    func testNormalizeSectionErrorsNameTheKey() {
        assertKey("normalize: {rulez: []}", "normalize.rulez", "unknown key")
        assertKey("normalize: [1]", "normalize", "expected a mapping")
        assertKey("normalize: {trace_extraction: maybe}", "normalize.trace_extraction", "true or false")
        assertKey("normalize: {rules: {match: {}}}", "normalize.rules", "expected a list")
        assertKey("normalize: {rules: [{match: {}}]}", "normalize.rules[0]", "does nothing")
        assertKey("normalize: {rules: [3]}", "normalize.rules[0]", "a rule is a mapping")
        assertKey("normalize: {rules: [{match: {namespaces: x}, parser: json}]}", "normalize.rules[0].match.namespaces", "unknown key")
        assertKey("normalize: {rules: [{match: {}, parser: json}, {parser: nope}]}", "normalize.rules[1].parser", "unknown parser 'nope'")
        assertKey("normalize: {default_parser: jsonx}", "normalize.default_parser", "unknown parser")
        assertKey("normalize: {rules: [{drop: {field: body, regex: 'a(b'}}]}", "normalize.rules[0].drop.regex", "missing")
        assertKey("normalize: {rules: [{drop: {field: body}}]}", "normalize.rules[0].drop.regex", "is required")
        assertKey("normalize: {rules: [{drop: {regex: x}}]}", "normalize.rules[0].drop.field", "is required")
        assertKey("normalize: {rules: [{drop: {severity_below: loud}}]}", "normalize.rules[0].drop.severity_below", "expected a level")
        assertKey("normalize: {rules: [{drop: {severity_below: info, field: body}}]}", "normalize.rules[0].drop", "stands alone")
        assertKey("normalize: {rules: [{drop: [{severity_below: info}, {when: x}]}]}", "normalize.rules[0].drop[1].when", "unknown key")
        assertKey("normalize: {rules: [{rename: [a, b]}]}", "normalize.rules[0].rename", "expected a mapping")
        assertKey("normalize: {rules: [{rename: {a: [b]}}]}", "normalize.rules[0].rename.a", "expected a single value")
        assertKey("normalize: {rules: [{redact: ['(']}]}", "normalize.rules[0].redact[0]", "missing")
        assertKey("normalize: {redact: {builtin: [bearer, passwords]}}", "normalize.redact.builtin[1]", "unknown built-in")
        assertKey("normalize: {redact: {patterns: [{name: x, regex: '[z-a]'}]}}", "normalize.redact.patterns[0].regex", "range")
        assertKey("normalize: {redact: {patterns: [{nam: x}]}}", "normalize.redact.patterns[0].nam", "unknown key")
        assertKey("normalize: {redact: {mode: strict}}", "normalize.redact.mode", "unknown key")
        assertKey("- a\n- b", "", "mapping at the top level")
        assertKey("normalize: {rules: [", "", "not valid YAML")
    }

    func testOtherTopLevelKeysBelongToOthers() throws {
        let configuration = try NormalizerConfiguration(yaml: "server: {listen: 0.0.0.0:4180}\nstorage: {}\n")
        XCTAssertEqual(configuration.defaultParser, "auto")
        XCTAssertTrue(configuration.rules.isEmpty)
    }

    func definitionError(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigurationError? {
        do {
            _ = try ParserRegistry.definition(yaml: yaml, file: "parsers/test.yaml")
            XCTFail("accepted: \(yaml)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func assertDefinition(_ yaml: String, _ key: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let e = definitionError(yaml, file: file, line: line) else { return }
        XCTAssertEqual(e.file, "parsers/test.yaml", file: file, line: line)
        XCTAssertEqual(e.key, key, e.description, file: file, line: line)
        XCTAssertTrue(e.description.hasPrefix("parsers/test.yaml: "), e.description, file: file, line: line)
        XCTAssertTrue(e.description.contains(fragment), e.description, file: file, line: line)
    }

    func testParserDefinitionErrorsNameFileAndKey() {
        assertDefinition("regex: '(?P<m>.*)'", "name", "is required")
        assertDefinition("name: auto\ndecoder: json", "name", "reserved")
        assertDefinition("name: x\nregex: '(?P<m>.*'", "regex", "missing )")
        assertDefinition("name: x\nregex: '.*'", "regex", "no named groups")
        assertDefinition("name: x", "regex", "is required")
        assertDefinition("name: x\ndecoder: xml", "decoder", "unknown decoder 'xml'")
        assertDefinition("name: x\ndecoder: json\nregex: '(?P<a>.)'", "regex", "either decoder or regex")
        assertDefinition("name: x\ndecoder: json\nmessage: m", "message", "only regex definitions")
        assertDefinition("name: x\nregex: '(?P<m>.*)'\ntime: {field: when}", "time.field", "unknown field 'when'")
        assertDefinition("name: x\nregex: '(?P<m>.*)'\nmessage: msg", "message", "unknown field 'msg'")
        assertDefinition("name: x\nregex: '(?P<m>.*)'\nseverity: {field: lvl}", "severity.field", "unknown field 'lvl'")
        assertDefinition("name: x\nregex: '(?P<m>.*)'\ntrace_id: t", "trace_id", "unknown field 't'")
        assertDefinition("name: x\nregex: '(?P<m>.*)'\nattributes: {n: a}", "attributes.n", "unknown field 'n'")
        assertDefinition("name: x\nregex: '(?P<t>.*)'\ntime: {field: t, format: '%Y-%Q'}", "time.format", "unknown directive %Q")
        assertDefinition("name: x\nregex: '(?P<t>.*)'\ntime: {field: t, format: '%Y-%m-%d'}", "time.format", "no time of day")
        assertDefinition("name: x\nregex: '(?P<t>.*)'\ntime: {field: t, fmt: unix}", "time.fmt", "unknown key")
        assertDefinition("name: x\nregex: '(?P<l>.*)'\nseverity: {field: l, map: {X: loud}}", "severity.map.X", "expected a level")
        assertDefinition("name: x\ndecoder: klog\ntimezone: Europe/Paris", "timezone", "fixed offset")
        assertDefinition("name: x\ndecoder: klog\nflavour: y", "flavour", "unknown key")
        assertDefinition("[1, 2]", "", "is a mapping")
        assertDefinition("name: [x", "", "not valid YAML")
    }

    func testDirectoryLoadReportsEveryBadFile() throws {
        let scratch = ScratchDirectory("parsers")
        defer { withExtendedLifetime(scratch) {} }
        let directory = scratch.path
        try "name: a\nregex: '(?P<m>.*)'\nmessage: m\n".write(toFile: directory + "/a.yaml", atomically: true, encoding: .utf8)
        try "name: b\nregex: '(?P<m>.*'\n".write(toFile: directory + "/b.yaml", atomically: true, encoding: .utf8)
        try "name: a\ndecoder: json\n".write(toFile: directory + "/c.yml", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: directory + "/README.md", atomically: true, encoding: .utf8)
        do {
            _ = try ParserRegistry.load(directory: directory)
            XCTFail("accepted")
        } catch {
            XCTAssertEqual(error.problems.count, 2)
            XCTAssertEqual(error.problems.map(\.key), ["regex", "name"])
            XCTAssertTrue(error.problems[0].file!.hasSuffix("/b.yaml"))
            XCTAssertTrue(error.problems[1].file!.hasSuffix("/c.yml"))
            XCTAssertTrue(error.description.contains("already defined in"), error.description)
        }
        try FileManager.default.removeItem(atPath: directory + "/b.yaml")
        try FileManager.default.removeItem(atPath: directory + "/c.yml")
        let registry = try ParserRegistry.load(directory: directory)
        XCTAssertNotNil(registry.parser(named: "a"))
        XCTAssertNotNil(registry.parser(named: "json"))
        XCTAssertThrowsError(try ParserRegistry.load(directory: directory + "/missing"))
    }

    func testTimeFormats() throws {
        let runtime = runtimeTime
        func parse(_ format: String, _ text: String) throws -> String? {
            try TimeFormat(format).parse(text, runtime: runtime).map { RFC3339.format(nanos: $0) }
        }
        XCTAssertEqual(try parse("%d/%b/%Y:%H:%M:%S.%f", "21/Nov/2026:10:00:00.123"), "2026-11-21T10:00:00.123000000Z")
        XCTAssertEqual(try parse("%d/%b/%Y:%H:%M:%S %z", "21/Nov/2026:11:00:00 +0100"), "2026-11-21T10:00:00.000000000Z")
        XCTAssertEqual(try parse("%b %e %T", "Nov  1 09:00:00"), "2026-11-01T09:00:00.000000000Z")
        XCTAssertEqual(try parse("%a, %d %B %Y %I:%M:%S %p %Z", "Sat, 21 November 2026 10:00:00 AM GMT"), "2026-11-21T10:00:00.000000000Z")
        XCTAssertEqual(try parse("%F %T,%L", "2026-11-21 10:00:00,250"), "2026-11-21T10:00:00.250000000Z")
        XCTAssertEqual(try parse("%H:%M:%S", "09:59:59"), "2026-11-21T09:59:59.000000000Z")
        XCTAssertEqual(try parse("%s", "1795255200"), "2026-11-21T10:00:00.000000000Z")
        XCTAssertEqual(try parse("unix", "1795255200.25"), "2026-11-21T10:00:00.250000000Z")
        XCTAssertEqual(try parse("unix_ms", "1795255200123"), "2026-11-21T10:00:00.123000000Z")
        XCTAssertEqual(try parse("unix_us", "1795255200123456"), "2026-11-21T10:00:00.123456000Z")
        XCTAssertEqual(try parse("unix_ns", "1795255200123456789"), "2026-11-21T10:00:00.123456789Z")
        XCTAssertEqual(try parse("rfc3339", "2026-11-21T10:00:00.5+00:00"), "2026-11-21T10:00:00.500000000Z")
        XCTAssertNil(try parse("%Y-%m-%d %H:%M:%S", "2026-13-21 10:00:00"))
        XCTAssertNil(try parse("%Y-%m-%d %H:%M:%S", "2026-11-21 10:00:00 trailing"))
        XCTAssertNil(try parse("unix", "12a"))
    }
}
