/// Who is calling, as established by authentication.
package struct Principal: Sendable, Equatable {
    package enum Role: String, Sendable, CaseIterable {
        case tester, researcher, admin, service
    }

    /// The `sub` claim: a user or service ID.
    package var subject: String
    package var role: Role
    /// The organization whose data the caller may see.
    package var org: String

    package init(subject: String, role: Role, org: String) {
        self.subject = subject
        self.role = role
        self.org = org
    }
}
