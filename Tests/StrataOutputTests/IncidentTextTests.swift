import Foundation
import StrataDiagnosis
import StrataOutput
import Testing

/// `strata incidents`' table, read from the list endpoint's JSON as the command reads it.
@Suite struct IncidentTextTests {
    static let listJSON = """
        {"count":3,"incidents":[
         {"id":"inc-1","state":"open","version":2,"severity":"critical",
          "opened_at":"2026-11-21T10:05:00.123Z","updated_at":"2026-11-21T10:07:30Z","start":"2026-11-21T10:04:00Z",
          "top_suspect":{"namespace":"shop","workload":"payments","score":12.345},
          "summary":"payments failing","anomalous_workloads":2,"pending_notifications":0,"failed_notifications":0},
         {"id":"inc-0","state":"resolved","version":4,"severity":"warning",
          "opened_at":"2026-11-20T08:00:00Z","updated_at":"2026-11-20T09:00:00Z","resolved_at":"2026-11-20T09:00:00Z",
          "start":"2026-11-20T07:59:00Z","end":"2026-11-20T08:30:00Z",
          "summary":"","anomalous_workloads":0,"pending_notifications":0,"failed_notifications":1}
        ]}
        """

    @Test func listIsATableWithTheTopSuspectAndACutLine() throws {
        let list = try IncidentAPI.decodeList(Data(Self.listJSON.utf8))
        let lines = IncidentText.table(list).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 5, "\(lines)")
        #expect(lines[0].hasPrefix("ID"))
        #expect(lines[0].contains("TOP SUSPECT") && lines[0].hasSuffix("SCORE"))
        #expect(lines[1].hasPrefix("inc-1") && lines[1].contains("critical") && lines[1].contains("2026-11-21T10:05:00Z"))
        #expect(lines[1].contains("shop/payments") && lines[1].hasSuffix("12.3"))
        #expect(lines[2].hasPrefix("inc-0") && lines[2].contains("resolved") && lines[2].hasSuffix("-"))
        // Columns line up: every row starts its second column where the header does.
        let stateColumn = lines[0].range(of: "STATE").map { lines[0].distance(from: lines[0].startIndex, to: $0.lowerBound) }
        #expect(stateColumn != nil)
        if let stateColumn {
            #expect(lines[1].dropFirst(stateColumn).hasPrefix("open"))
            #expect(lines[2].dropFirst(stateColumn).hasPrefix("resolved"))
        }
        #expect(lines[3] == "(2 of 3; raise --limit for more)")
    }

    @Test func anEmptyListSaysSo() throws {
        let list = try IncidentAPI.decodeList(Data(#"{"count":0,"incidents":[]}"#.utf8))
        #expect(IncidentText.table(list) == "no incidents\n")
    }
}
