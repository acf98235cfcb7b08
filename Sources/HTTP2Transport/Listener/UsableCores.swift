import Foundation
import NIOCore

/// How many CPUs this process may run on: the number of event loops a server should start.
///
/// NIO's `System.coreCount` honours cgroup limits but not the affinity mask (`taskset`, a
/// per-process cpuset). Two loops sharing one CPU only take turns, paying a context switch at
/// each turn, so the smaller of the two counts wins.
package enum UsableCores {
    package static var count: Int {
        var allowed = System.coreCount
        // Linux reports the affinity mask as e.g. `Cpus_allowed_list:\t0-3,6`.
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
            let inMask = Self.cpuCount(list: line.dropFirst("Cpus_allowed_list:".count))
        {
            allowed = min(allowed, inMask)
        }
        return max(1, allowed)
    }

    /// The number of CPUs in a Linux CPU list (`0-3,6`); nil when it does not parse.
    package static func cpuCount(list: Substring) -> Int? {
        var total = 0
        for range in list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let bounds = range.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let first = Int(bounds[0]), let last = Int(bounds[bounds.count - 1]),
                first >= 0, last >= first
            else { return nil }
            total += last - first + 1
        }
        return total > 0 ? total : nil
    }
}
