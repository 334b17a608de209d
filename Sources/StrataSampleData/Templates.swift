/// Message templates and the vocabulary that fills them.
///
/// A template reads `"W:Retrying request to {svc} | attempt={int:1-3} error={error}"`: an
/// optional level prefix (`D:`, `W:`, `E:`; info otherwise), a message, and after ` | `
/// space-separated fields. Each log style renders the message and fields its own way (JSON
/// members, logfmt pairs, klog's quoted structured form, plain ` k=v` text).

enum Level: Int, Sendable {
    case debug, info, warn, error
}

enum Slot: Sendable, Equatable {
    case int(Int, Int)
    case uuid
    case hex(Int)
    case millis
    case seconds
    case money
    case podIP
    case clientIP
    case path
    case method
    case status
    case sku
    case user
    case word(Vocabulary.List)

    /// Rendered as a bare number in JSON and klog.
    var isNumeric: Bool {
        switch self {
        case .int, .millis, .seconds, .status: return true
        default: return false
        }
    }

    init(_ spec: Substring) {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts[0] {
        case "int":
            let bounds = parts[1].split(separator: "-").compactMap { Int($0) }
            self = .int(bounds[0], bounds[1])
        case "uuid": self = .uuid
        case "hex": self = .hex(Int(parts[1])!)
        case "ms": self = .millis
        case "sec": self = .seconds
        case "money": self = .money
        case "ip": self = .podIP
        case "cip": self = .clientIP
        case "path": self = .path
        case "method": self = .method
        case "status": self = .status
        case "sku": self = .sku
        case "user": self = .user
        default:
            guard let list = Vocabulary.List(name: parts[0]) else {
                preconditionFailure("unknown template slot {\(spec)}")
            }
            self = .word(list)
        }
    }
}

enum Piece: Sendable {
    case text([UInt8])
    case slot(Slot)

    static func parse(_ source: Substring) -> [Piece] {
        var pieces: [Piece] = []
        var rest = source
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            if open > rest.startIndex { pieces.append(.text(Array(rest[..<open].utf8))) }
            pieces.append(.slot(Slot(rest[rest.index(after: open)..<close])))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append(.text(Array(rest.utf8))) }
        return pieces
    }
}

struct Field: Sendable {
    var key: [UInt8]
    var value: [Piece]
    var isNumeric: Bool
}

struct Template: Sendable {
    var level: Level
    var message: [Piece]
    var fields: [Field]

    init(_ source: String) {
        var body = Substring(source)
        level = .info
        for (prefix, l) in [("D:", Level.debug), ("W:", .warn), ("E:", .error)] where body.hasPrefix(prefix) {
            level = l
            body = body.dropFirst(2)
        }
        let halves = body.components(separatedBy: " | ")
        message = Piece.parse(Substring(halves[0]))
        fields = []
        if halves.count > 1 {
            for token in halves[1].split(separator: " ") {
                let kv = token.split(separator: "=", maxSplits: 1)
                let value = Piece.parse(kv[1])
                var numeric = false
                if value.count == 1, case .slot(let slot) = value[0] { numeric = slot.isNumeric }
                fields.append(Field(key: Array(kv[0].utf8), value: value, isNumeric: numeric))
            }
        }
    }
}

/// Templates grouped by level, so a level can be drawn first and a template for it second.
struct TemplateSet: Sendable {
    private var byLevel: [[Template]]

    init(_ sources: [String]) {
        byLevel = [[], [], [], []]
        for source in sources {
            let t = Template(source)
            byLevel[t.level.rawValue].append(t)
        }
    }

    func pick(_ level: Level, _ rng: inout SplitMix64) -> Template {
        let list = byLevel[level.rawValue].isEmpty ? byLevel[Level.info.rawValue] : byLevel[level.rawValue]
        return list[rng.below(list.count)]
    }
}

enum Vocabulary {
    enum List: Int, Sendable, CaseIterable {
        case svc, topic, table, product, error, k8serr, kind, ns, name, pod, category, query, scope, agent

        init?(name: String) {
            guard let match = List.allCases.first(where: { "\($0)" == name }) else { return nil }
            self = match
        }
    }

    @inline(__always) static func words(_ list: List) -> [[UInt8]] { lists[list.rawValue] }

    private static let lists: [[[UInt8]]] = {
        let table = wordLists.mapValues { $0.map { Array($0.utf8) } }
        return List.allCases.map { table[$0]! }
    }()

    private static let wordLists: [List: [String]] = [
        .svc: ["payments", "inventory", "orders", "shipping", "pricing", "customers", "notifications", "search",
               "recommendations", "auth"],
        .topic: ["orders.v1", "payments.events", "inventory.reservations", "shipping.labels", "customer.updates"],
        .table: ["orders", "order_items", "customers", "payments", "inventory", "shipments"],
        .product: ["Running Shoes X2", "Crème brûlée Set", "Müsli Bio 500g", "東京 Tote Bag", "Café ☕ Mug",
                   "Smørrebrød Board", "Wireless Earbuds", "27\" 4K Monitor", "Trail Tent 2P", "Señorita Dress"],
        .error: ["connection refused", "context deadline exceeded", "i/o timeout", "unexpected EOF",
                 "upstream connect error or disconnect/reset before headers", "too many connections",
                 "invalid token: signature verification failed", "insufficient stock", "card declined: do_not_honor",
                 "read tcp 10.244.1.17:43122->10.96.0.12:5432: read: connection reset by peer",
                 "dial tcp 10.96.12.4:6379: connect: connection refused"],
        .k8serr: [
            "Put \"https://10.96.0.1:443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager\": context deadline exceeded",
            "Operation cannot be fulfilled on orders.shop.example.com \"orders-7d9f\": the object has been modified; please apply your changes to the latest version and try again",
            "etcdserver: request timed out",
            "failed to call webhook: Post \"https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=10s\": dial tcp 10.96.45.3:443: connect: connection refused",
            "pods \"orders-5c7b9d6f8-x2x4q\" not found",
        ],
        .kind: ["order", "certificate", "ingress", "endpointslice", "deployment", "secret"],
        .ns: ["shop", "payments", "kube-system", "monitoring", "data", "auth"],
        .name: ["orders", "checkout", "cart", "payments-gateway", "catalog", "ledger", "kafka", "grafana", "identity"],
        .pod: ["orders-7c9f8d6b5d-x8k2m", "cart-6d5b7c9f4b-zq9tn", "ledger-0", "kafka-2", "catalog-5f7d8b9c6d-h4wpl"],
        .category: ["shoes", "outdoor", "kitchen", "books", "garden", "toys"],
        .query: ["running+shoes", "espresso+machine", "tent", "desk+lamp", "%E6%9D%B1%E4%BA%AC"],
        .scope: ["xdsproxy", "ads", "cache", "sds", "envoy config", "healthcheck"],
        .agent: ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                 "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                 "okhttp/4.12.0", "kube-probe/1.31", "Prometheus/2.55.1", "curl/8.11.0", "python-requests/2.32.3",
                 "Go-http-client/1.1"],
    ]

    static let paths: [[Piece]] = [
        "/api/v1/orders", "/api/v1/orders/{int:100000-999999}", "/api/v1/cart/{hex:12}/items",
        "/api/v1/products?category={category}&page={int:1-20}", "/api/v1/payments/{uuid}/capture", "/healthz",
        "/readyz", "/metrics", "/api/v1/customers/{user}/addresses", "/static/js/main.{hex:8}.js", "/login",
        "/api/v2/search?q={query}&limit=24", "/graphql", "/api/v1/orders/{int:100000-999999}/shipments",
    ].map { Piece.parse(Substring($0)) }

    static let serviceTemplates = TemplateSet([
        "Created order {uuid} for customer {user} | total={money} currency=EUR items={int:1-12}",
        "Order {uuid} confirmed | payment_id=pay_{hex:12} duration_ms={ms}",
        "Fetching inventory | sku={sku} warehouse=wh-{int:1-9}",
        "Cache miss, loading from database | key=product:{int:1000-99999} table={table}",
        "Published event OrderCreated | topic={topic} partition={int:0-11} offset={int:100000-9999999}",
        "Outbound request completed | service={svc} method={method} path={path} status={status} duration_ms={ms}",
        "Inbound request | method={method} path={path} status={status} duration_ms={ms} client={cip}",
        "User {user} authenticated | issuer=https://auth.example.com/realms/shop method=oidc",
        "Search query \"{product}\" returned {int:0-200} results | duration_ms={ms}",
        "Product '{product}' added to cart {hex:12}",
        "Processed batch | topic={topic} records={int:10-500} lag={int:0-5000}",
        "Shipping label created for order {uuid} | carrier=DHL tracking=JD{int:100000000-999999999}",
        "Payment authorization approved | id={uuid} amount={money} provider=stripe",
        "Scheduled job finished | job=reconcile-{table} rows={int:0-10000} duration_ms={ms}",
        "Imported price list from C:\\exports\\prices-{int:1-52}.csv | rows={int:100-5000}",
        "D:Connection pool stats | pool={svc}-db active={int:0-20} idle={int:0-10} waiting={int:0-3}",
        "D:Resolved feature flags | checkout_v2=true new_pricing=false region=eu-west-1",
        "D:select o.id, o.status, o.total from {table} o where o.customer_id=? limit ? | duration_ms={ms}",
        "W:Retrying request to {svc} | attempt={int:1-3} max_attempts=3 backoff_ms={ms} error={error}",
        "W:Slow query detected | table={table} duration_ms={int:500-9000} rows={int:1-100000}",
        "W:Rate limit exceeded | client={cip} path={path} limit=100/min",
        "W:Circuit breaker for {svc} is HALF_OPEN | failure_rate={int:20-60}",
        "E:Request failed | method={method} path={path} status=500 error={error}",
        "E:Failed to reserve stock for sku={sku} | error={error}",
        "E:Payment declined for order {uuid} | reason={error} amount={money}",
        "E:Could not publish event to {topic} | error={error}",
    ])

    static let controllerTemplates = TemplateSet([
        "Reconciling | controller={kind} namespace={ns} name={name} reconcileID={uuid}",
        "Successfully synced | key={ns}/{name}",
        "Caches populated for *v1.Pod from k8s.io/client-go/informers/factory.go:160",
        "Starting workers | controller={kind} workerCount={int:1-10}",
        "Updated status | namespace={ns} name={name} phase=Running generation={int:1-40}",
        "SyncProxyRules complete | elapsed={ms}ms",
        "Syncing iptables rules | ipFamily=IPv4 rules={int:200-4000}",
        "Successfully renewed lease | name=kube-system/{name}",
        "Volume attached | volumeID=vol-0{hex:16} nodeID=i-0{hex:16}",
        "Certificate issued | namespace={ns} name={name}-tls notAfter=2027-02-19T10:00:00Z",
        "D:Watch close - *v1.EndpointSlice total {int:1-400} items received",
        "W:Failed to update lease | name={name} err={k8serr}",
        "W:Reconciler returned error, requeueing | controller={kind} namespace={ns} name={name} err={k8serr}",
        "E:Reconciler error | controller={kind} namespace={ns} name={name} reconcileID={uuid} err={k8serr}",
        "E:watch of *v1.Pod ended with: an error on the server (\"unable to decode an event from the watch stream: http2: client connection lost\") has prevented the request from succeeding",
    ])

    static let infrastructureTemplates = TemplateSet([
        "Regenerating endpoint | endpointID={int:100-4000} identity={int:1000-70000} reason=policy-rules-added subsys=endpoint",
        "Head GC completed | component=tsdb duration={ms}ms",
        "Compaction completed | component=tsdb blocks={int:2-4} duration={ms}ms",
        "Request Completed | method=GET path=/api/dashboards/uid/{hex:8} status={status} remote_addr={cip} time_ms={ms} size={int:200-90000}",
        "Completed loading of configuration file | filename=/etc/prometheus/config_out/prometheus.env.yaml totalDuration={ms}ms",
        "Listening on | address=[::]:9100",
        "Scrape pool synced | scrape_pool=serviceMonitor/{ns}/{svc}/0 targets={int:1-40}",
        "D:Processing API request | method=GET path=/v1/endpoint/{int:100-4000} subsys=daemon",
        "W:Scrape failed | scrape_pool=serviceMonitor/{ns}/{svc}/0 target=http://{ip}:8080/metrics err={error}",
        "W:Unable to fetch endpoint | endpointID={int:100-4000} subsys=endpoint error={error}",
        "E:Error on ingesting samples that are too old or are too far into the future | num_dropped={int:1-50}",
        "E:Failed to send batch, retrying | remote_name=thanos url=http://thanos-receive.monitoring.svc:19291/api/v1/receive err={error}",
    ])

    static let kafkaTemplates = TemplateSet([
        "[Partition {topic}-{int:0-11} broker=1] ISR updated to 1,2,3 and version updated to {int:1-200} (kafka.cluster.Partition)",
        "[GroupCoordinator 1]: Preparing to rebalance group {svc}-consumers in state PreparingRebalance with old generation {int:1-90} (__consumer_offsets-{int:0-49}) (reason: Adding new member consumer-{svc}-1-{uuid} with group instance id None) (kafka.coordinator.group.GroupCoordinator)",
        "[LocalLog partition={topic}-{int:0-11}, dir=/var/lib/kafka/data] Rolled new log segment at offset {int:100000-9999999} in {int:1-20} ms. (kafka.log.LocalLog)",
        "[ProducerStateManager partition={topic}-{int:0-11}] Wrote producer snapshot at offset {int:100000-9999999} with 0 producer ids in 1 ms. (kafka.log.ProducerStateManager)",
        "D:[Controller id=1] Processing automatic preferred replica leader election (kafka.controller.KafkaController)",
        "W:[ReplicaFetcher replicaId=1, leaderId=2, fetcherId=0] Error in response for fetch request (type=FetchRequest, replicaId=1, maxWait=500, minBytes=1) (kafka.server.ReplicaFetcherThread)",
        "E:[ReplicaManager broker=1] Error processing append operation on partition {topic}-{int:0-11} (kafka.server.ReplicaManager)",
    ])

    static let istioTemplates = TemplateSet([
        "connected to upstream XDS server: istiod.istio-system.svc:15012 | id={int:1-90}",
        "ADS: new connection for node:{pod}.{ns}-{int:1-90}",
        "SDS: PUSH resource=default",
        "cache generated new workload certificate | latency={ms}ms ttl=23h59m59s",
        "W:Envoy proxy is NOT ready: config received from XDS server, but was rejected: cds updates: 1 successful, 1 rejected",
        "E:gRPC config: stream closed: 14, upstream connect error or disconnect/reset before headers",
    ])

    static let gunicornTemplates = TemplateSet([
        "Booting worker with pid: {int:8-400}",
        "Listening at: http://0.0.0.0:8000 ({int:1-9})",
        "W:Worker with pid {int:8-400} was terminated due to signal 9",
        "E:Worker (pid:{int:8-400}) was sent SIGKILL! Perhaps out of memory?",
    ])
}
