//! Domain values: parsed once at the edge, trusted afterwards.

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

/// A staff member's one role (DESIGN.md section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Peer,
    SocialWorker,
    Supervisor,
    Staff,
    Security,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Peer,
        Role::SocialWorker,
        Role::Supervisor,
        Role::Staff,
        Role::Security,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Peer => "peer",
            Role::SocialWorker => "social_worker",
            Role::Supervisor => "supervisor",
            Role::Staff => "staff",
            Role::Security => "security",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A field that failed validation: its name and the rule it broke. Never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    pub field: String,
    pub message: String,
}

impl FieldIssue {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldIssue {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Collects field issues while a request is parsed.
#[derive(Debug, Default)]
pub struct Issues(pub Vec<FieldIssue>);

impl Issues {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldIssue::new(field, message));
    }

    pub fn finish(self) -> Result<(), Vec<FieldIssue>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}

/// A closed set of values stored as text, offered as an enum in the API.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, poem_openapi::Enum, Serialize, Deserialize)]
        #[oai(rename_all = "snake_case")]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

/// An id of one kind of record. Services take these rather than bare UUIDs
/// wherever two ids of different kinds meet, so that swapping them does not
/// compile. Made at the HTTP edge with `new`; no `From<Uuid>`, on purpose.
macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            pub fn new(id: uuid::Uuid) -> Self {
                $name(id)
            }

            pub fn uuid(self) -> uuid::Uuid {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

id_type! {
    /// A patron's id.
    PatronId,
    /// A contact's id.
    ContactId,
    /// A case's id.
    CaseId,
    /// A case note's id.
    NoteId,
    /// A consent's id.
    ConsentId,
    /// A follow-up's id.
    FollowUpId,
    /// A referral's id.
    ReferralId,
    /// A mandated report's id.
    MandatedReportId,
    /// A staff account's id.
    StaffId,
    /// An incident's id.
    IncidentId,
    /// A suspension's id.
    SuspensionId,
    /// A support request's id.
    SupportRequestId,
}

text_enum! {
    /// What kind of encounter a contact was.
    ContactKind { Outreach = "outreach", DropIn = "drop_in", FollowUp = "follow_up", Crisis = "crisis" }
}

text_enum! {
    /// The needs taxonomy (DESIGN.md section 2).
    Need {
        Housing = "housing",
        Food = "food",
        Health = "health",
        MentalHealth = "mental_health",
        SubstanceUse = "substance_use",
        Benefits = "benefits",
        Employment = "employment",
        Documents = "documents",
        Legal = "legal",
        Safety = "safety",
        ChildAndFamily = "child_and_family",
        Other = "other",
    }
}

text_enum! {
    /// Who may read a case note: `restricted` is the case owner and supervisors only.
    Sensitivity { Standard = "standard", Restricted = "restricted" }
}

text_enum! {
    /// How a consent was given.
    ConsentMethod { Verbal = "verbal", Signed = "signed" }
}

text_enum! {
    /// How a patron prefers to be reached.
    ContactPreference { Phone = "phone", TextMessage = "text_message", Email = "email", InPerson = "in_person", Mail = "mail" }
}

text_enum! {
    CaseStatus { Open = "open", Closed = "closed" }
}

text_enum! {
    /// The kinds of record a tablet's offline copy holds, in the order a
    /// first sync sends them (a record's patron and case come before it).
    SyncKind {
        Service = "service",
        Patron = "patron",
        Case = "case",
        CaseNote = "case_note",
        Contact = "contact",
        Consent = "consent",
        Referral = "referral",
        FollowUp = "follow_up",
        MandatedReport = "mandated_report",
        SupportRequest = "support_request",
    }
}

text_enum! {
    /// The kinds of record the audit trail and the change log name.
    RecordKind {
        Branch = "branch",
        Staff = "staff",
        Session = "session",
        AuditEvent = "audit_event",
        Patron = "patron",
        Contact = "contact",
        Case = "case",
        CaseNote = "case_note",
        Consent = "consent",
        FollowUp = "follow_up",
        Service = "service",
        Referral = "referral",
        MandatedReport = "mandated_report",
        Incident = "incident",
        IncidentAmendment = "incident_amendment",
        Suspension = "suspension",
        SupportRequest = "support_request",
        Training = "training",
        Certification = "certification",
        Rule = "rule",
        BreakGlass = "break_glass",
    }
}

text_enum! {
    /// Which protective agency a mandated report goes to.
    MandatedReportKind {
        ChildProtectiveServices = "child_protective_services",
        AdultProtectiveServices = "adult_protective_services",
        Other = "other",
    }
}

text_enum! {
    /// How a mandated report was made.
    ReportedHow { Phone = "phone", Online = "online", InPerson = "in_person" }
}

text_enum! {
    /// `draft -> submitted -> acknowledged (intake number received) -> closed`.
    MandatedReportStatus {
        Draft = "draft",
        Submitted = "submitted",
        Acknowledged = "acknowledged",
        Closed = "closed",
    }
}

text_enum! {
    /// Where a referral is in its closed loop (DESIGN.md section 4).
    ReferralStatus {
        Draft = "draft",
        Requested = "requested",
        Received = "received",
        Accepted = "accepted",
        InProgress = "in_progress",
        OnHold = "on_hold",
        Completed = "completed",
        Failed = "failed",
        Rejected = "rejected",
        Cancelled = "cancelled",
        EnteredInError = "entered_in_error",
    }
}

text_enum! {
    /// How a completed or failed referral ended.
    ReferralOutcome {
        GotHelp = "got_help",
        NotEligible = "not_eligible",
        NoCapacity = "no_capacity",
        CouldNotContact = "could_not_contact",
        NoLongerInterested = "no_longer_interested",
        ReferredElsewhere = "referred_elsewhere",
    }
}

text_enum! {
    /// Whether a directory entry takes referrals.
    ServiceStatus { Active = "active", Inactive = "inactive" }
}

text_enum! {
    FollowUpStatus { Open = "open", Done = "done" }
}

// ---- safety ---------------------------------------------------------------

text_enum! {
    /// What kind of incident it was (DESIGN.md section 2).
    IncidentCategory {
        RuleViolation = "rule_violation",
        Disturbance = "disturbance",
        Intoxication = "intoxication",
        Medical = "medical",
        Theft = "theft",
        Violence = "violence",
        UnattendedChild = "unattended_child",
        Other = "other",
    }
}

text_enum! {
    /// What was done about an incident.
    ActionTaken {
        None = "none",
        Warning = "warning",
        AskedToLeave = "asked_to_leave",
        Suspension = "suspension",
        PoliceCalled = "police_called",
        MedicalCalled = "medical_called",
    }
}

text_enum! {
    /// The part a staff member played in responding to an incident.
    ResponderPart { Lead = "lead", Assisting = "assisting", Support = "support", Witness = "witness" }
}

text_enum! {
    /// A responder's role at the time: a staff account's role when the
    /// incident was recorded (supervisors count as social work), or someone
    /// from outside (police, paramedics).
    ResponderRole {
        Staff = "staff",
        Security = "security",
        SocialWorker = "social_worker",
        Peer = "peer",
        Outside = "outside",
    }
}

impl ResponderRole {
    pub fn of(role: Role) -> ResponderRole {
        match role {
            Role::Peer => ResponderRole::Peer,
            Role::SocialWorker | Role::Supervisor => ResponderRole::SocialWorker,
            Role::Security => ResponderRole::Security,
            Role::Staff | Role::Auditor | Role::Admin => ResponderRole::Staff,
        }
    }
}

text_enum! {
    /// How an incident was resolved.
    ResolutionPath {
        StaffDeEscalation = "staff_de_escalation",
        SocialWorkSupport = "social_work_support",
        Security = "security",
        Police = "police",
        Medical = "medical",
        PersonLeft = "person_left",
    }
}

impl ResolutionPath {
    /// Resolved without security or the police stepping in.
    pub fn without_enforcement(self) -> bool {
        !matches!(self, ResolutionPath::Security | ResolutionPath::Police)
    }
}

text_enum! {
    /// The fields of an incident that a support request may share with
    /// social work, each copied into the request when it is made.
    IncidentField {
        OccurredAt = "occurred_at",
        Category = "category",
        Description = "description",
        ActionTaken = "action_taken",
        PersonsInvolved = "persons_involved",
    }
}

text_enum! {
    /// Where a suspension applies: the one branch it names, or every branch.
    SuspensionScope { Branch = "branch", SystemWide = "system_wide" }
}

text_enum! {
    /// How the suspended person was told.
    NotifiedHow {
        InPerson = "in_person",
        Letter = "letter",
        Email = "email",
        Phone = "phone",
        NotNotified = "not_notified",
    }
}

text_enum! {
    /// Where an appeal of a suspension stands.
    AppealStatus {
        None = "none",
        Requested = "requested",
        Upheld = "upheld",
        Modified = "modified",
        Overturned = "overturned",
    }
}

text_enum! {
    /// Where a suspension is, on the service's clock: not yet begun, in
    /// force, past its end date (it ends by itself), or lifted early.
    SuspensionStatus { Scheduled = "scheduled", Active = "active", Ended = "ended", Lifted = "lifted" }
}

// ---- support requests (the one door through the wall) ----------------------

text_enum! {
    /// How soon social work is needed.
    Urgency { Routine = "routine", Urgent = "urgent", Emergency = "emergency" }
}

text_enum! {
    /// `open -> received -> closed` (or `open -> closed`).
    SupportRequestStatus { Open = "open", Received = "received", Closed = "closed" }
}

/// Needs as stored: a JSON array of their names, sorted, each once.
pub fn needs_json(needs: &[Need]) -> String {
    let mut v: Vec<&str> = needs.iter().map(|n| n.as_str()).collect();
    v.sort();
    v.dedup();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

/// The form of a name used for matching: accents removed, lowercase,
/// whitespace folded.
pub fn name_key(s: &str) -> String {
    use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A searchable text as stored: its [`name_key`] after a space, so that
/// every word starts after a space.
pub fn search_key(s: &str) -> String {
    format!(" {}", name_key(s))
}

/// The `LIKE` patterns that find, in a [`search_key`], a word starting with
/// each word of `q` (all must match); `None` when `q` has nothing to search.
pub fn word_patterns(q: &str) -> Option<Vec<sea_orm::sea_query::LikeExpr>> {
    let key = name_key(q);
    let words: Vec<_> = key
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|word| {
            let escaped = word
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            sea_orm::sea_query::LikeExpr::new(format!("% {escaped}%")).escape('\\')
        })
        .collect();
    (!words.is_empty()).then_some(words)
}

/// The search keys of a name: the whole name and each of its words, so that
/// "gar" finds "María García".
pub fn name_keys(s: &str) -> Vec<String> {
    let whole = name_key(s);
    let mut keys: Vec<String> = whole
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    if !whole.is_empty() {
        keys.push(whole);
    }
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod casework_tests {
    use super::*;

    #[test]
    fn enum_texts_match_their_json_names() {
        for n in Need::ALL {
            assert_eq!(serde_json::to_value(n).unwrap(), n.as_str());
        }
        for k in ContactKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for p in ContactPreference::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert_eq!(
            Sensitivity::parse("restricted"),
            Some(Sensitivity::Restricted)
        );
        assert_eq!(Need::parse("unicorns"), None);
    }

    #[test]
    fn names_match_without_case_or_accents() {
        assert_eq!(name_key("  María   GARCÍA "), "maria garcia");
        assert_eq!(
            name_keys("María García"),
            vec!["garcia", "maria", "maria garcia"]
        );
        assert_eq!(name_key("Zoë"), "zoe");
    }
}

/// When something happened, as the device says (`now`, the service's clock,
/// when it says nothing): not more than a day ahead of the server's clock
/// (clock drift), not before 2000.
pub fn occurred_at(
    issues: &mut Issues,
    field: &str,
    value: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    let v = value.unwrap_or(now);
    if v > now + chrono::Duration::days(1) {
        issues.add(field, "must not be in the future");
    } else if v.timestamp() < 946_684_800 {
        issues.add(field, "must be after 2000-01-01");
    }
    v
}
