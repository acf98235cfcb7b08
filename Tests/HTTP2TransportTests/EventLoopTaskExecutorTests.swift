import Foundation
@testable import HTTP2Transport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Tasks on a connection's loop resumed from other threads (a store's writer resuming its callers)
/// come back through the executor's inbox, one loop hop per burst.
@Suite("EventLoopTaskExecutor")
struct EventLoopTaskExecutorTests {
    @Test("tasks resumed from other threads in bursts all run again on the loop, none lost")
    func enqueueWhenResumedFromOtherThreads() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(loop: loop)
        let resumers = (0..<4).map { DispatchQueue(label: "resumer-\($0)") }
        let onLoop = NIOLockedValueBox(0)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<2_000 {
                tasks.addTask(executorPreference: executor) {
                    #expect(loop.inEventLoop)
                    // Suspend, and be resumed from one of four foreign threads at once.
                    await withCheckedContinuation { continuation in
                        resumers[index % 4].async { continuation.resume() }
                    }
                    if loop.inEventLoop { onLoop.withLockedValue { $0 += 1 } }
                }
            }
            try await tasks.waitForAll()
        }
        #expect(onLoop.withLockedValue { $0 } == 2_000)
        try await group.shutdownGracefully()
    }

    @Test("a job enqueued while the inbox drains runs too, in a later hop")
    func enqueueWhenDraining() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(loop: loop)
        let finished = try await Task(executorPreference: executor) { () async throws -> Int in
            var count = 0
            for _ in 0..<500 {
                // Each resume lands while the loop may be running the previous drain.
                await withCheckedContinuation { continuation in
                    DispatchQueue.global().async { continuation.resume() }
                }
                if loop.inEventLoop { count += 1 }
            }
            return count
        }.value
        #expect(finished == 500)
        try await group.shutdownGracefully()
    }
}
