/// Columns aligned with two spaces between them, as every table of the command line prints.
/// A left-aligned last column is not padded, so lines carry no trailing blanks for it.
public struct TextTable: Sendable {
    public enum Alignment: Sendable {
        case left
        /// Numbers: padded on the left so their last digits line up.
        case right
    }

    public var header: [String]
    public var alignments: [Alignment]
    public var rows: [[String]] = []

    /// `alignments` defaults to left for every column.
    public init(header: [String], alignments: [Alignment]? = nil) {
        self.header = header
        self.alignments = alignments ?? Array(repeating: .left, count: header.count)
    }

    public mutating func append(_ row: [String]) { rows.append(row) }

    /// The header line first, then one line per row, without a final newline.
    public func lines() -> [String] {
        var widths = header.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count { widths[column] = max(widths[column], cell.count) }
        }
        return ([header] + rows).map { row in
            row.enumerated().map { column, cell in
                let alignment = column < alignments.count ? alignments[column] : .left
                let width = column < widths.count ? widths[column] : cell.count
                switch alignment {
                case .right: return cell.leftPadded(to: width)
                case .left: return column == row.count - 1 ? cell : cell.rightPadded(to: width)
                }
            }.joined(separator: "  ")
        }
    }

    public func render() -> String { lines().joined(separator: "\n") }
}

extension String {
    /// Spaces before the text up to `width` characters; a longer text is left whole.
    public func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    /// Spaces after the text up to `width` characters; a longer text is left whole.
    public func rightPadded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
