//! The demo library (`casework serve --demo`): invented branches, one
//! account per role, and a day of casework, safety and referrals, made
//! through the services as the people would make them. Only the `--demo`
//! path reaches it; the first start of a real library is `first_start`.

use uuid::Uuid;

use crate::{
    audit::RequestMeta,
    directory::service::{self as directory, NewStaff},
    domain::Role,
    error::ServiceResult,
    state::AppState,
    text::{BranchCode, Line, NewPassword, Text, Username},
};

/// The invented demo library: branches and one account per role. Every
/// person in it is made up.
pub const DEMO_BRANCHES: &[(&str, &str)] = &[
    ("MAIN", "Main Library (demo)"),
    ("EAST", "Eastside Branch (demo)"),
    ("RIVER", "Riverside Branch (demo)"),
];

/// (username, display name, role, password). Documented in the README.
pub const DEMO_ACCOUNTS: &[(&str, &str, Role, &str)] = &[
    (
        "admin",
        "Demo Administrator",
        Role::Admin,
        "demo-admin-password",
    ),
    (
        "peer",
        "Robin Peer (demo)",
        Role::Peer,
        "demo-peer-password",
    ),
    (
        "social.worker",
        "Sam Worker (demo)",
        Role::SocialWorker,
        "demo-social-worker-password",
    ),
    (
        "supervisor",
        "Alex Supervisor (demo)",
        Role::Supervisor,
        "demo-supervisor-password",
    ),
    (
        "staff",
        "Jo Librarian (demo)",
        Role::Staff,
        "demo-staff-password",
    ),
    (
        "security",
        "Casey Security (demo)",
        Role::Security,
        "demo-security-password",
    ),
    (
        "auditor",
        "Morgan Auditor (demo)",
        Role::Auditor,
        "demo-auditor-password",
    ),
];

/// Seeds the demo library into an empty database. Returns false (and
/// changes nothing) when the database already has accounts.
pub async fn seed_demo(state: &AppState) -> ServiceResult<bool> {
    if directory::any_staff(&state.db).await? {
        return Ok(false);
    }
    let meta = RequestMeta::default();
    let admin = directory::create_staff(
        state,
        None,
        &meta,
        NewStaff {
            id: None,
            username: Username::for_field("username", DEMO_ACCOUNTS[0].0)?,
            display_name: Line::for_field("display_name", DEMO_ACCOUNTS[0].1)?,
            role: DEMO_ACCOUNTS[0].2,
            branches: vec![],
            password: NewPassword::for_field("password", DEMO_ACCOUNTS[0].3)?,
        },
    )
    .await?;
    // The branches are created as the demo admin would, so the audit trail
    // of a demo looks like real use.
    let admin_actor = crate::access::Actor {
        staff_id: admin.account.id,
        role: Role::Admin,
        branches: vec![],
        session_id: Uuid::nil(),
        must_change_password: false,
    };
    let mut branch_ids = Vec::new();
    for (code, name) in DEMO_BRANCHES {
        let b = directory::create_branch(
            state,
            &admin_actor,
            &meta,
            directory::NewBranch {
                id: None,
                code: BranchCode::for_field("code", code)?,
                name: Line::for_field("name", name)?,
            },
        )
        .await?;
        branch_ids.push(b.id);
    }
    let mut accounts = Vec::new();
    for (username, display_name, role, password) in &DEMO_ACCOUNTS[1..] {
        let branches = match role {
            Role::Auditor => vec![],
            Role::Supervisor => branch_ids.clone(),
            _ => vec![branch_ids[0]],
        };
        // Made as at the console: the demo's documented passwords stay in
        // force (an account an admin makes must choose its own first).
        let created = directory::create_staff(
            state,
            None,
            &meta,
            NewStaff {
                id: None,
                username: Username::for_field("username", username)?,
                display_name: Line::for_field("display_name", display_name)?,
                role: *role,
                branches,
                password: NewPassword::for_field("password", password)?,
            },
        )
        .await?;
        accounts.push(crate::access::Actor {
            staff_id: created.account.id,
            role: *role,
            branches: created.branches,
            session_id: Uuid::nil(),
            must_change_password: false,
        });
    }
    let services = seed_demo_services(state, &admin_actor).await?;
    seed_demo_casework(state, &accounts, branch_ids[0], &services).await?;
    seed_demo_safety(state, &admin_actor, &accounts, &branch_ids).await?;
    Ok(true)
}

/// Training and security's side: a training catalogue with a few
/// certifications (one expiring soon), rules of behavior including "no
/// sleeping", incidents resolved in several ways, a suspension at the Main
/// branch, and a support request waiting in the Main branch's social-work
/// inbox.
async fn seed_demo_safety(
    state: &AppState,
    admin: &crate::access::Actor,
    accounts: &[crate::access::Actor],
    branches: &[Uuid],
) -> ServiceResult<()> {
    use crate::{
        domain::{
            ActionTaken, IncidentCategory, IncidentField, IncidentId, NotifiedHow, ResolutionPath,
            ResponderPart, SuspensionScope, Urgency,
        },
        safety::{
            incidents::{self, IncidentFields, NewIncident, ResponderInput},
            suspensions::{self, NewSuspension, SuspensionFields},
        },
        support::requests::{self, NewSupportRequest},
        training::{
            certifications::{self, NewCertification, TrainingFields},
            rules::{self, NewRule},
        },
    };
    let role = |r: Role| accounts.iter().find(|a| a.role == r);
    let (Some(staff), Some(security), Some(worker), Some(peer)) = (
        role(Role::Staff),
        role(Role::Security),
        role(Role::SocialWorker),
        role(Role::Peer),
    ) else {
        return Ok(());
    };
    let meta = RequestMeta::default();
    let now = state.clock.now();
    let today = now.date_naive();

    let mut trainings = Vec::new();
    for (name, provider, months, de_escalation) in [
        (
            "Nonviolent Crisis Intervention (demo)",
            "CPI",
            Some(36),
            true,
        ),
        (
            "Mental Health First Aid (demo)",
            "National Council",
            Some(36),
            true,
        ),
        ("Trauma-Informed Care (demo)", "In-house", None, false),
    ] {
        let t = certifications::create_training(
            state,
            admin,
            &meta,
            None,
            TrainingFields {
                name: Some(Line::for_field("name", name)?),
                provider: Some(Line::for_field("provider", provider)?),
                recertify_months: Some(months),
                de_escalation: Some(de_escalation),
            },
        )
        .await?;
        trainings.push(t.id);
    }
    let months_ago = |m: u32| {
        today
            .checked_sub_months(chrono::Months::new(m))
            .unwrap_or(today)
    };
    for (who, training, completed_on, trainer) in [
        // Expires in about three weeks.
        (
            staff,
            trainings[0],
            months_ago(36) + chrono::Duration::days(21),
            false,
        ),
        (security, trainings[1], months_ago(4), false),
        (worker, trainings[0], months_ago(10), true),
        (peer, trainings[2], months_ago(2), false),
    ] {
        certifications::record(
            state,
            Some(admin),
            &meta,
            who.staff_id,
            NewCertification {
                id: None,
                training_id: training,
                completed_on,
                trainer,
                evidence: None,
            },
        )
        .await?;
    }

    let mut rule_ids = Vec::new();
    for (code, text) in [
        ("no_sleeping", "No sleeping in the library (demo)."),
        (
            "respect",
            "Treat others with respect; no threats or harassment (demo).",
        ),
        ("food", "Food only in the café area (demo)."),
    ] {
        let r = rules::create(
            state,
            admin,
            &meta,
            NewRule {
                id: None,
                branch_id: None,
                code: Line::for_field("code", code)?,
                text: Text::for_field("text", text)?,
            },
        )
        .await?;
        rule_ids.push(r.id);
    }

    let staff_responder = |who: &crate::access::Actor, part| ResponderInput {
        staff_id: Some(who.staff_id),
        outside: None,
        part,
    };
    struct Demo {
        branch: Uuid,
        hours_ago: i64,
        category: IncidentCategory,
        action: ActionTaken,
        resolution: ResolutionPath,
        rule: Option<Uuid>,
        minutes_before_police: Option<i32>,
        description: &'static str,
        responders: Vec<ResponderInput>,
    }
    let demos = vec![
        Demo {
            branch: branches[0],
            hours_ago: 30,
            category: IncidentCategory::Disturbance,
            action: ActionTaken::Suspension,
            resolution: ResolutionPath::Security,
            rule: Some(rule_ids[1]),
            minutes_before_police: None,
            description: "Demo: shouted threats at a librarian at the service desk; asked to stop twice.",
            responders: vec![
                staff_responder(staff, ResponderPart::Lead),
                staff_responder(security, ResponderPart::Assisting),
            ],
        },
        Demo {
            branch: branches[0],
            hours_ago: 1,
            category: IncidentCategory::UnattendedChild,
            action: ActionTaken::None,
            resolution: ResolutionPath::SocialWorkSupport,
            rule: None,
            minutes_before_police: None,
            description: "Demo: a child of about 8 has waited alone in the children's room since noon.",
            responders: vec![staff_responder(security, ResponderPart::Lead)],
        },
        Demo {
            branch: branches[0],
            hours_ago: 6,
            category: IncidentCategory::RuleViolation,
            action: ActionTaken::Warning,
            resolution: ResolutionPath::StaffDeEscalation,
            rule: Some(rule_ids[0]),
            minutes_before_police: None,
            description: "Demo: an adult asleep in the reading room was woken gently and offered coffee.",
            responders: vec![
                staff_responder(staff, ResponderPart::Lead),
                staff_responder(peer, ResponderPart::Support),
            ],
        },
        Demo {
            branch: branches[1],
            hours_ago: 50,
            category: IncidentCategory::Intoxication,
            action: ActionTaken::PoliceCalled,
            resolution: ResolutionPath::Police,
            rule: Some(rule_ids[1]),
            minutes_before_police: Some(15),
            description: "Demo: an intoxicated adult would not calm down; police called after 15 minutes.",
            responders: vec![
                staff_responder(security, ResponderPart::Lead),
                ResponderInput {
                    staff_id: None,
                    outside: Some(Line::for_field(
                        "outside",
                        "Two city police officers (demo)",
                    )?),
                    part: ResponderPart::Assisting,
                },
            ],
        },
        Demo {
            branch: branches[1],
            hours_ago: 70,
            category: IncidentCategory::RuleViolation,
            action: ActionTaken::AskedToLeave,
            resolution: ResolutionPath::PersonLeft,
            rule: Some(rule_ids[2]),
            minutes_before_police: None,
            description: "Demo: a meal in the stacks; the person packed up and left.",
            responders: vec![staff_responder(security, ResponderPart::Lead)],
        },
    ];
    let mut made = Vec::new();
    for d in demos {
        let by = if d.branch == branches[0] && d.hours_ago != 1 {
            staff
        } else {
            security
        };
        let i = incidents::create(
            state,
            by,
            &meta,
            NewIncident {
                id: None,
                branch_id: d.branch,
                fields: IncidentFields {
                    occurred_at: Some(now - chrono::Duration::hours(d.hours_ago)),
                    category: Some(d.category),
                    description: Some(Text::for_field("description", d.description)?),
                    action_taken: Some(d.action),
                    persons_involved: Some(Text::for_field(
                        "persons_involved",
                        "An adult in a red cap (demo).",
                    )?),
                    responders: Some(d.responders),
                    resolution: Some(d.resolution),
                    police_called: None,
                    minutes_before_police: d.minutes_before_police,
                    rule_id: d.rule,
                },
            },
        )
        .await?;
        made.push(i.incident.id);
    }
    suspensions::create(
        state,
        security,
        &meta,
        NewSuspension {
            id: None,
            scope: SuspensionScope::Branch,
            branch_id: Some(branches[0]),
            starts_at: None,
            fields: SuspensionFields {
                person: Some(Line::for_field("person", "Adult in a red cap (demo)")?),
                ends_at: Some(now + chrono::Duration::days(30)),
                reason: Some(Text::for_field(
                    "reason",
                    "Demo: threats toward staff after two warnings.",
                )?),
                incident_id: Some(IncidentId::new(made[0])),
                notified_how: Some(NotifiedHow::InPerson),
                ..SuspensionFields::default()
            },
        },
    )
    .await?;
    requests::create(
        state,
        security,
        &meta,
        NewSupportRequest {
            id: None,
            branch_id: branches[0],
            urgency: Urgency::Urgent,
            needed: Text::for_field(
                "needed",
                "Demo: please come to the children's room; a child is waiting alone.",
            )?,
            incident_id: Some(IncidentId::new(made[1])),
            share: vec![
                IncidentField::OccurredAt,
                IncidentField::Category,
                IncidentField::Description,
            ],
        },
    )
    .await?;
    Ok(())
}

/// A few invented outside services in the directory; their ids.
async fn seed_demo_services(
    state: &AppState,
    admin: &crate::access::Actor,
) -> ServiceResult<Vec<Uuid>> {
    use crate::{directory::services, domain::Need};
    let meta = RequestMeta::default();
    let mut ids = Vec::new();
    for (org, name, needs, phone) in [
        (
            "Harbor Street Mutual Aid (demo)",
            "Harbor Food Pantry",
            &[Need::Food][..],
            "555-0101",
        ),
        (
            "Maple House (demo)",
            "Maple Overnight Shelter",
            &[Need::Housing, Need::Safety][..],
            "555-0102",
        ),
        (
            "Riverside Free Clinic (demo)",
            "Walk-in Clinic",
            &[Need::Health, Need::MentalHealth][..],
            "555-0103",
        ),
        (
            "Exampleton Legal Aid (demo)",
            "Benefits and ID Help Desk",
            &[Need::Benefits, Need::Documents, Need::Legal][..],
            "555-0104",
        ),
    ] {
        let made = services::create(
            state,
            admin,
            &meta,
            services::NewService {
                id: None,
                organization_name: Line::for_field("organization_name", org)?,
                name: Line::for_field("name", name)?,
                categories: needs.to_vec(),
                phone: Some(Line::for_field("phone", phone)?),
                email: None,
                address: None,
                eligibility: None,
                languages: vec![Line::for_field("languages", "en")?],
                status: crate::domain::ServiceStatus::Active,
            },
        )
        .await?;
        ids.push(made.id);
    }
    Ok(ids)
}

/// A few invented patrons at the Main branch, one case with the demo peer on
/// its team, a note, a contact and referrals in several states, so that every
/// casework screen has data.
async fn seed_demo_casework(
    state: &AppState,
    accounts: &[crate::access::Actor],
    main: Uuid,
    services: &[Uuid],
) -> ServiceResult<()> {
    use crate::casework::{cases, contacts, notes, patrons};
    let (Some(peer), Some(worker)) = (
        accounts.iter().find(|a| a.role == Role::Peer),
        accounts.iter().find(|a| a.role == Role::SocialWorker),
    ) else {
        return Ok(());
    };
    let meta = RequestMeta::default();
    let mut ids = Vec::new();
    for (name, year) in [
        ("Avery Demo", 1979),
        ("Blake Example", 1992),
        ("Carmen Sample", 1968),
        ("Dev Placeholder", 2001),
    ] {
        let created = patrons::create(
            state,
            worker,
            &meta,
            None,
            patrons::PatronInput {
                preferred_name: Some(Line::for_field("preferred_name", name)?),
                legal_name: None,
                birth_year: Some(year),
                birth_date: None,
                language: None,
                contact_preference: None,
                do_not_contact: None,
                home_branch_id: Some(main),
            },
        )
        .await?;
        ids.push(created.patron.id);
    }
    let case = cases::open(
        state,
        worker,
        &meta,
        cases::NewCase {
            id: None,
            patron_id: crate::domain::PatronId::new(ids[0]),
            branch_id: None,
            summary: Some(Text::for_field(
                "summary",
                "Demo case: looking for housing.",
            )?),
        },
    )
    .await?;
    cases::change(
        state,
        worker,
        &meta,
        crate::domain::CaseId::new(case.case.id),
        Some("\"1\""),
        cases::Change::AddMember(crate::domain::StaffId::new(peer.staff_id)),
    )
    .await?;
    notes::create(
        state,
        worker,
        &meta,
        crate::domain::CaseId::new(case.case.id),
        notes::NewNote {
            id: None,
            sensitivity: crate::domain::Sensitivity::Standard,
            body: Text::for_field("body", "Demo note: applied for the housing list.")?,
            amends_note_id: None,
            occurred_at: None,
        },
    )
    .await?;
    seed_demo_referrals(state, worker, ids[0], case.case.id, services).await?;
    seed_demo_report(state, worker, ids[3]).await?;
    contacts::create(
        state,
        peer,
        &meta,
        None,
        contacts::ContactInput {
            branch_id: Some(main),
            patron_id: None,
            occurred_at: None,
            duration_minutes: Some(10),
            kind: Some(crate::domain::ContactKind::Outreach),
            needs: Some(vec![crate::domain::Need::Food]),
            services_given: Some(vec![Line::for_field("services_given", "Food pantry list")?]),
            note: None,
        },
    )
    .await?;
    Ok(())
}

/// Referrals on the demo case: one the pantry has accepted (it said so by
/// phone), one requested from the shelter (overdue), one still a draft.
async fn seed_demo_referrals(
    state: &AppState,
    worker: &crate::access::Actor,
    patron: Uuid,
    case: Uuid,
    services: &[Uuid],
) -> ServiceResult<()> {
    use crate::{
        casework::referrals,
        domain::{CaseId, Need, PatronId, ReferralId, ReferralStatus},
    };
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let meta = RequestMeta::default();
    let mut overdue = Vec::new();
    let plan: [(usize, Need, &[ReferralStatus]); 3] = [
        (
            0,
            Need::Food,
            &[
                ReferralStatus::Requested,
                ReferralStatus::Received,
                ReferralStatus::Accepted,
            ],
        ),
        (1, Need::Housing, &[ReferralStatus::Requested]),
        (2, Need::Health, &[]),
    ];
    for (service, need, moves) in plan {
        let Some(&service_id) = services.get(service) else {
            continue;
        };
        let made = referrals::create(
            state,
            worker,
            &meta,
            referrals::NewReferral {
                id: None,
                patron_id: PatronId::new(patron),
                case_id: Some(CaseId::new(case)),
                service_id: Some(service_id),
                recipient: None,
                needs: vec![need],
                notes: None,
                shares_identifying_data: false,
                follow_up_on: None,
            },
        )
        .await?;
        let mut version = made.referral.version;
        for (i, to) in moves.iter().enumerate() {
            let moved = referrals::transition(
                state,
                worker,
                &meta,
                ReferralId::new(made.referral.id),
                Some(&format!("\"{version}\"")),
                referrals::Move {
                    to: *to,
                    reason: None,
                    outcome: None,
                    on_behalf_of_agency: i > 0,
                    occurred_at: None,
                },
            )
            .await?;
            version = moved.referral.version;
        }
        if need == Need::Housing {
            overdue.push(made.referral.id);
        }
    }
    // The shelter has not answered: its follow-up date passed three days ago,
    // so the supervisors' overdue list has something to show. The API never
    // sets a date in the past; only the demo's first start does, here.
    let past = state.clock.now().date_naive() - chrono::Duration::days(3);
    entities::referral::Entity::update_many()
        .col_expr(
            entities::referral::Column::FollowUpOn,
            sea_orm::sea_query::Expr::value(past),
        )
        .filter(entities::referral::Column::Id.is_in(overdue))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// One mandated report, acknowledged by the (invented) agency.
async fn seed_demo_report(
    state: &AppState,
    worker: &crate::access::Actor,
    patron: Uuid,
) -> ServiceResult<()> {
    use crate::{
        casework::mandated_reports::{self, Change, NewReport, ReportFields},
        domain::{
            MandatedReportId, MandatedReportKind, MandatedReportStatus, PatronId, ReportedHow,
        },
    };
    let meta = RequestMeta::default();
    let learned = state.clock.now() - chrono::Duration::hours(2);
    let made = mandated_reports::create(
        state,
        worker,
        &meta,
        NewReport {
            id: None,
            patron_id: PatronId::new(patron),
            case_id: None,
            fields: ReportFields {
                kind: Some(MandatedReportKind::AdultProtectiveServices),
                agency: Some(Line::for_field(
                    "agency",
                    "County Adult Protective Services (demo)",
                )?),
                learned_at: Some(learned),
                persons_concerned: Some(Text::for_field(
                    "persons_concerned",
                    "An older adult who visits the library daily (demo).",
                )?),
                what_was_reported: Some(Text::for_field(
                    "what_was_reported",
                    "Demo report: signs of neglect described to the worker.",
                )?),
                ..ReportFields::default()
            },
        },
    )
    .await?;
    mandated_reports::change(
        state,
        worker,
        &meta,
        MandatedReportId::new(made.id),
        Some("\"1\""),
        Change::Move {
            to: MandatedReportStatus::Acknowledged,
            fields: ReportFields {
                reported_at: Some(learned + chrono::Duration::minutes(30)),
                reported_how: Some(ReportedHow::Phone),
                intake_number: Some(Line::for_field("intake_number", "DEMO-0001")?),
                ..ReportFields::default()
            },
        },
    )
    .await?;
    Ok(())
}
