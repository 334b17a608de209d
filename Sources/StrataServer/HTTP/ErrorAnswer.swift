import Hummingbird
import NIOCore
import StrataQuery

/// Error answers of the collector's API: JSON `{code, message}` with a status.
enum ErrorAnswer {
    static func response(status: Int, code: String, message: String) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: QueryAPI.error(code: code, message: message))))
    }
}
