import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import StrataQuery

/// One per connection, between Hummingbird's HTTP decoding and its request handling. It does
/// what neither Hummingbird 2 nor NIO offers (their parts are used where they exist: the
/// keep-alive idle timeout is Hummingbird's `HTTP1Channel.Configuration.idleTimeout`, the
/// head size limits are NIO's decoder limits):
/// - the connection cap: beyond `ConnectionCount.limit` a new connection is answered 503 and
///   closed at once, so idle connections cannot take the descriptors the store needs;
/// - a header timeout counted from the connection's start, and a body timeout between two
///   pieces of a request body (Hummingbird's idle timer restarts with every decoded piece, and
///   NIO's `IdleStateHandler` only signals, it closes nothing);
/// - a client that hangs up during a streamed answer closes the connection (Hummingbird allows
///   half-closed connections, so a tail would otherwise notice only at its next write);
/// - the shutdown deadline: at a graceful shutdown Hummingbird waits for every request in
///   progress, so one stalled upload would hold SIGTERM forever; here it gets
///   `shutdownTimeout`;
/// - JSON error answers for what NIO's HTTP parser refuses (Hummingbird answers those with an
///   empty 400): a request line or headers over the decoder's limit is 414 `query_too_long`,
///   anything else 400 `bad_request`.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: HTTPLimits
    private let count: ConnectionCount
    private let metrics: CollectorMetrics

    private var started = false
    private var holdsPlace = false
    private var refused = false
    /// Requests whose head was read and whose answer has not ended: the application answers them.
    private var requestsAwaitingAnswer = 0
    /// Whether the application began the answer to the oldest of them.
    private var answerStarted = false
    /// The request broke while the application answers it: its answer is the last one.
    private var closeAfterAnswer = false
    private var headerTimer: Scheduled<Void>?
    private var bodyTimer: Scheduled<Void>?
    private var shutdownTimer: Scheduled<Void>?

    init(limits: HTTPLimits, count: ConnectionCount, metrics: CollectorMetrics) {
        self.limits = limits
        self.count = count
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        guard count.admit() else {
            refused = true
            metrics.connectionRefused()
            answer(
                context, status: 503, code: "too_many_connections",
                message: "the collector has \(count.limit) connections open (http.max_connections); retry shortly")
            return
        }
        holdsPlace = true
        metrics.connectionOpened()
        headerTimer = schedule(context, after: limits.headerTimeout) { guardHandler, context in
            guardHandler.metrics.connectionTimedOut(phase: "header")
            guardHandler.answer(
                context, status: 408, code: "request_timeout",
                message: "no complete request head arrived within \(guardHandler.limits.headerTimeout) of connecting (http.header_timeout)")
        }
    }

    private func finish() {
        headerTimer?.cancel()
        bodyTimer?.cancel()
        shutdownTimer?.cancel()
        headerTimer = nil
        bodyTimer = nil
        shutdownTimer = nil
        if holdsPlace {
            holdsPlace = false
            count.release()
            metrics.connectionClosed()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A refused connection is being closed; nothing it sends is served.
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head:
            headerTimer?.cancel()
            headerTimer = nil
            if requestsAwaitingAnswer == 0 { answerStarted = false }
            requestsAwaitingAnswer += 1
            restartBodyTimer(context)
        case .body:
            restartBodyTimer(context)
        case .end:
            bodyTimer?.cancel()
            bodyTimer = nil
        }
        context.fireChannelRead(data)
    }

    private func restartBodyTimer(_ context: ChannelHandlerContext) {
        bodyTimer?.cancel()
        bodyTimer = schedule(context, after: limits.bodyTimeout) { guardHandler, context in
            guardHandler.metrics.connectionTimedOut(phase: "body")
            let message = "the request body stalled: nothing arrived for \(guardHandler.limits.bodyTimeout) (http.body_timeout)"
            // An answer begun or already given (a refusal before the body ended) cannot be
            // replaced by another.
            if guardHandler.answerStarted || guardHandler.requestsAwaitingAnswer == 0 {
                context.close(promise: nil)
            } else {
                guardHandler.answer(context, status: 408, code: "request_timeout", message: message)
            }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            answerStarted = true
        case .body:
            break
        case .end:
            requestsAwaitingAnswer = max(0, requestsAwaitingAnswer - 1)
            answerStarted = false
            if closeAfterAnswer {
                context.writeAndFlush(data, promise: promise)
                context.close(promise: nil)
                return
            }
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if (event as? ChannelEvent) == .inputClosed, answerStarted {
            // The client hung up while an answer streams to it (a tail: other answers are written
            // whole): nobody will read the rest, and the stream's place is free at once.
            context.close(promise: nil)
            return
        }
        if event is ChannelShouldQuiesceEvent, requestsAwaitingAnswer > 0, shutdownTimer == nil {
            // Hummingbird closes the connection once the answer ends; this closes it anyway when
            // the answer does not end in time (a stalled upload, a client that stopped reading).
            shutdownTimer = schedule(context, after: limits.shutdownTimeout) { guardHandler, context in
                guardHandler.metrics.connectionTimedOut(phase: "shutdown")
                context.close(promise: nil)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !refused else { return }
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        metrics.requestUnparsable()
        guard requestsAwaitingAnswer == 0 else {
            // The application is answering a request whose body broke: it sees the error and
            // answers; a second answer here would interleave with its own, and Hummingbird's
            // empty 400 after it is cut off by closing once that answer ends.
            closeAfterAnswer = true
            context.fireErrorCaught(error)
            return
        }
        if case .headerOverflow = parseError {
            answer(
                context, status: 414, code: "query_too_long",
                message: "the request line, each header and all headers together are limited to \(HTTPLimits.maxRequestHeadBytes / 1024) KiB; queries (q) to \(QueryLimits.maxQueryBytes) bytes")
        } else {
            answer(context, status: 400, code: "bad_request", message: "the request is not valid HTTP/1.1: \(parseError)")
        }
    }

    /// Sends `{code, message}` with `Connection: close` and closes; nothing else is read.
    private func answer(_ context: ChannelHandlerContext, status: Int, code: String, message: String) {
        headerTimer?.cancel()
        bodyTimer?.cancel()
        let body = QueryAPI.error(code: code, message: message)
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: status), headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }

    private func schedule(
        _ context: ChannelHandlerContext, after delay: Duration, _ fire: @escaping (ConnectionGuard, ChannelHandlerContext) -> Void
    ) -> Scheduled<Void> {
        let loopBound = NIOLoopBound((handler: self, context: context, fire: fire), eventLoop: context.eventLoop)
        return context.eventLoop.scheduleTask(in: TimeAmount(delay)) {
            let (handler, context, fire) = loopBound.value
            fire(handler, context)
        }
    }
}

extension HTTPLimits {
    /// NIO's decoder limit for one header field (the request line counts as one) and for all of
    /// them together; Hummingbird's default, named here because the 414 answer quotes it.
    static let maxRequestHeadBytes = 80 * 1024
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}
