import StrataCore

/// Kubernetes identity recovered from a container log path, as kubelet lays them out:
///
///     /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log
///     /var/log/containers/<pod>_<namespace>_<container>-<container id>.log
///
/// Either path alone gives part of the identity; the agent reads both (the second is a
/// symlink to the first) and merges them.
public struct KubernetesIdentity: Sendable, Equatable {
    public var namespace: String?
    public var pod: String?
    public var podUID: String?
    public var container: String?
    public var containerID: String?
    public var restartCount: Int?

    public init(
        namespace: String? = nil, pod: String? = nil, podUID: String? = nil, container: String? = nil,
        containerID: String? = nil, restartCount: Int? = nil
    ) {
        self.namespace = namespace
        self.pod = pod
        self.podUID = podUID
        self.container = container
        self.containerID = containerID
        self.restartCount = restartCount
    }

    /// Parses whichever layout the path has; unknown layouts give an empty identity.
    public static func parse(path: String) -> KubernetesIdentity {
        let components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let fileName = components.last else { return KubernetesIdentity() }
        if components.count >= 3, components[components.count - 3 ..< components.count].count == 3,
            let podDirectory = components.dropLast(2).last, podDirectory.split(separator: "_").count == 3,
            let restart = restartNumber(fileName)
        {
            let parts = podDirectory.split(separator: "_", maxSplits: 2).map(String.init)
            return KubernetesIdentity(
                namespace: parts[0], pod: parts[1], podUID: parts[2], container: components[components.count - 2],
                restartCount: restart)
        }
        return parseContainersName(fileName)
    }

    /// `<pod>_<namespace>_<container>-<64 hex>.log`. Pod and namespace names cannot hold `_`
    /// (DNS labels), so the underscores split reliably; the container name can hold `-`, so the
    /// id is the part after the last `-`.
    static func parseContainersName(_ fileName: String) -> KubernetesIdentity {
        guard fileName.hasSuffix(".log") else { return KubernetesIdentity() }
        let stem = fileName.dropLast(4)
        let parts = stem.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let dash = parts[2].lastIndex(of: "-") else { return KubernetesIdentity() }
        let container = String(parts[2][..<dash])
        let id = String(parts[2][parts[2].index(after: dash)...])
        guard !container.isEmpty, id.count >= 12, id.utf8.allSatisfy({ hexValue($0) }) else {
            return KubernetesIdentity()
        }
        return KubernetesIdentity(namespace: String(parts[1]), pod: String(parts[0]), container: container, containerID: id)
    }

    /// `0.log`, and after kubelet rotation `0.log.20230129-084210` (still the same restart).
    static func restartNumber(_ fileName: String) -> Int? {
        guard let dot = fileName.firstIndex(of: "."), fileName[dot...].hasPrefix(".log") else { return nil }
        return Int(fileName[..<dot])
    }

    /// Fills what `self` lacks from `other` (the symlink's target usually knows the UID and
    /// restart number, the symlink's own name the container id).
    public func merged(with other: KubernetesIdentity) -> KubernetesIdentity {
        KubernetesIdentity(
            namespace: namespace ?? other.namespace, pod: pod ?? other.pod, podUID: podUID ?? other.podUID,
            container: container ?? other.container, containerID: containerID ?? other.containerID,
            restartCount: restartCount ?? other.restartCount)
    }

    public var isEmpty: Bool { namespace == nil && pod == nil && container == nil }

    public func resource(node: String, path: String) -> Resource {
        var attributes: [Attribute] = []
        if let namespace { attributes.append(Attribute(ResourceKey.namespace, namespace)) }
        if let pod { attributes.append(Attribute(ResourceKey.pod, pod)) }
        if let podUID { attributes.append(Attribute(ResourceKey.podUID, podUID)) }
        if let container { attributes.append(Attribute(ResourceKey.container, container)) }
        if let containerID { attributes.append(Attribute(ResourceKey.containerID, containerID)) }
        if let restartCount { attributes.append(Attribute(ResourceKey.restartCount, String(restartCount))) }
        attributes.append(Attribute(ResourceKey.node, node))
        attributes.append(Attribute(ResourceKey.logFilePath, path))
        return Resource(attributes: attributes)
    }
}

@inline(__always)
private func hexValue(_ byte: UInt8) -> Bool {
    (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102) || (byte >= 65 && byte <= 70)
}
