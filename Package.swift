// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "strata",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "strata", targets: ["strata"]),
        .library(name: "StrataCore", targets: ["StrataCore"]),
        .library(name: "StrataAgent", targets: ["StrataAgent"]),
        .library(name: "StrataParsers", targets: ["StrataParsers"]),
        .library(name: "StrataStore", targets: ["StrataStore"]),
        .library(name: "StrataQuery", targets: ["StrataQuery"]),
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
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Native libraries from Debian (libzstd-dev, liblz4-dev, libre2-dev).
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
                "CZstd", "CLZ4", "CRE2Shim", "CStrataNative",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "StrataAgent",
            dependencies: [
                "StrataCore", "CStrataNative",
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
                .product(name: "Yams", package: "Yams"),
            ]),
        .target(
            name: "StrataParsers",
            dependencies: [
                "StrataCore",
                .product(name: "Yams", package: "Yams"),
            ]),
        .target(
            name: "StrataStore",
            dependencies: [
                "StrataCore",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(name: "StrataQuery", dependencies: ["StrataCore", "StrataStore"]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "StrataServer",
            dependencies: [
                "StrataCore", "StrataStore", "StrataParsers", "StrataQuery", "StrataTemplates", "StrataDiagnosis", "CZlib",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]),
        // Message template mining (constant text apart from variables).
        .target(name: "StrataTemplates", dependencies: ["StrataCore"]),
        // Incident detection, correlation across workloads and ranked reports.
        .target(
            name: "StrataDiagnosis",
            dependencies: [
                "StrataCore", "StrataTemplates", "StrataStore", "StrataQuery",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Realistic node log trees for the demo, benchmarks and tests.
        .target(name: "StrataSampleData"),
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
                "StrataCore", "StrataAgent", "StrataSampleData", "StrataServer", "StrataStore", "StrataParsers",
                "StrataQuery", "StrataTemplates", "StrataDiagnosis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // Diagnosis accuracy on generated incidents with random topologies (not in the
        // `strata` product): swift build -c release --product DiagnosisScenarioBench
        .executableTarget(
            name: "DiagnosisScenarioBench", dependencies: ["StrataDiagnosis", "StrataSampleData", "StrataCore", "StrataTestSupport"],
            path: "benchmarks/diagnosis/scenarios", exclude: ["README.md"]),

        .testTarget(name: "StrataCoreTests", dependencies: ["StrataTestSupport", "StrataCore"]),
        .testTarget(name: "StrataSampleDataTests", dependencies: ["StrataTestSupport", "StrataSampleData"]),
        .testTarget(name: "StrataParsersTests", dependencies: ["StrataTestSupport", "StrataParsers", "StrataCore"]),
        .testTarget(name: "StrataStoreTests", dependencies: ["StrataTestSupport", "StrataStore", "StrataCore"]),
        .testTarget(name: "StrataQueryTests", dependencies: ["StrataTestSupport", "StrataQuery", "StrataStore", "StrataCore", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "StrataTemplatesTests", dependencies: ["StrataTestSupport", "StrataTemplates", "StrataCore"]),
        .testTarget(
            name: "StrataDiagnosisTests",
            dependencies: [
                "StrataTestSupport", "StrataDiagnosis", "StrataTemplates", "StrataStore", "StrataQuery", "StrataCore", "StrataSampleData",
            ]),
        .testTarget(
            name: "StrataServerTests",
            dependencies: [
                "StrataTestSupport", "StrataServer", "StrataStore", "StrataCore", "StrataAgent", "StrataParsers", "StrataDiagnosis",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "StrataAgentTests",
            dependencies: [
                "StrataTestSupport", "StrataAgent", "StrataCore", "StrataSampleData",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
    ],
    cxxLanguageStandard: .cxx17
)
