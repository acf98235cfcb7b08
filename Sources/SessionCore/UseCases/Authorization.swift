import ServiceErrors

/// Who may see and do what (the role table of the README). A session the caller may not see is
/// NOT_FOUND, never a hint that it exists; a visible session with an action the role may not
/// take is PERMISSION_DENIED.
package enum SessionAction: String, Sendable {
    case read, pause, resume, complete, feedback, analyze, readAnalysis, readNotes, editNotes, confirm
}

extension Principal {
    /// Same organization, and a tester sees only their own sessions.
    func canSee(_ session: TestSession) -> Bool {
        session.org == self.org && (self.role != .tester || session.testerID == self.subject)
    }

    func mayTake(_ action: SessionAction) -> Bool {
        switch (self.role, action) {
        case (_, .read), (_, .pause), (_, .resume), (_, .complete):
            true
        case (.tester, .feedback):
            true
        case (.tester, _), (_, .feedback):
            false
        case (.researcher, _), (.admin, _):
            true
        case (.service, .confirm):
            false
        case (.service, _):
            true
        }
    }

    /// The session if the caller may take `action` on it.
    func authorize(_ action: SessionAction, on session: TestSession?, id: String) throws(ServiceError) -> TestSession {
        guard let session, self.canSee(session) else {
            throw ServiceError(.notFound, "session \(id) not found")
        }
        guard self.mayTake(action) else {
            throw ServiceError(.permissionDenied, "a \(self.role.rawValue) may not \(action.description) session \(id)")
        }
        return session
    }
}

extension SessionAction: CustomStringConvertible {
    package var description: String {
        switch self {
        case .read: "read"
        case .pause: "pause"
        case .resume: "resume"
        case .complete: "complete"
        case .feedback: "submit feedback for"
        case .analyze: "analyze"
        case .readAnalysis: "read the analysis of"
        case .readNotes: "read the notes of"
        case .editNotes: "edit the notes of"
        case .confirm: "confirm"
        }
    }
}
