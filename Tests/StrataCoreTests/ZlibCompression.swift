import CZlib
import XCTest

/// gzip (or zlib with `windowBits` 15) as a sender would make it, for the tests of the readers.
func zlibCompress(_ input: [UInt8], windowBits: Int32 = 31) throws -> [UInt8] {
    var stream = z_stream()
    XCTAssertEqual(
        deflateInit2_(&stream, 6, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)),
        Z_OK)
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
    var source = input
    let written = source.withUnsafeMutableBufferPointer { inputBuffer in
        output.withUnsafeMutableBufferPointer { outputBuffer -> Int in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = UInt32(inputBuffer.count)
            stream.next_out = outputBuffer.baseAddress
            stream.avail_out = UInt32(outputBuffer.count)
            XCTAssertEqual(deflate(&stream, Z_FINISH), Z_STREAM_END)
            return outputBuffer.count - Int(stream.avail_out)
        }
    }
    return Array(output[..<written])
}
