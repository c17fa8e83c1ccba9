"""An ordinary day, driven by a client generated from openapi/openapi.yaml
(openapi-python-client), untouched: if the spec lies about a field, a status
or a format, a step here raises or fails an assertion.

Run by tests/client/run.sh against a demo server (invented people only).
"""

import sys
from uuid import UUID

from casework_client import AuthenticatedClient, Client
from casework_client.api.auth import sign_in
from casework_client.api.cases import (
    add_case_note,
    add_case_team_member,
    close_case,
    get_case,
    list_case_notes,
    list_my_caseload,
    open_case,
    update_case,
)
from casework_client.api.contacts import create_contact, list_my_contacts
from casework_client.api.follow_ups import create_follow_up, list_my_follow_ups
from casework_client.api.patrons import create_patron, get_patron, search_patrons
from casework_client.api.consents import create_consent, list_patron_consents
from casework_client.api.sessions import get_me
from casework_client.api.services import search_services
from casework_client.api.referrals import create_referral, get_referral, list_my_referrals, move_referral
from casework_client.api.mandated_reports import create_mandated_report, get_mandated_report
from casework_client.api.statistics import contact_statistics
from casework_client.models import (
    CaseOut,
    CasePatchIn,
    Caseload,
    ContactKind,
    ContactList,
    ContactOut,
    FollowUpList,
    FollowUpOut,
    LoginRequest,
    Need,
    NewCaseIn,
    NewConsentIn,
    NewContactIn,
    NewFollowUpIn,
    NewNoteIn,
    NewPatronIn,
    NoteList,
    NoteOut,
    PatronCreatedOut,
    PatronList,
    PatronOut,
    Problem,
    ReasonIn,
    Sensitivity,
    StaffOut,
    TeamMemberIn,
    TokenResponse,
    ConsentMethod,
    ConsentOut,
    ConsentList,
    ContactGroupBy,
    MandatedReportKind,
    MandatedReportOut,
    NewMandatedReportIn,
    NewReferralIn,
    ReferralList,
    ReferralMoveIn,
    ReferralOut,
    ReferralStatus,
    ServiceList,
    StatsOut,
)

BASE = sys.argv[1]
steps = 0


def step(name, value, expected_type):
    global steps
    steps += 1
    if not isinstance(value, expected_type):
        raise SystemExit(f"step {steps} ({name}): got {type(value).__name__}: {value!r}")
    print(f"ok {steps:2} {name}")
    return value


def signed_in(username, password):
    token = step(
        f"sign in as {username}",
        sign_in.sync(
            client=Client(base_url=BASE),
            body=LoginRequest(username=username, password=password, device_name="generated client"),
        ),
        TokenResponse,
    )
    return AuthenticatedClient(base_url=BASE, token=token.access_token)


worker = signed_in("social.worker", "demo-social-worker-password")
peer = signed_in("peer", "demo-peer-password")
me = step("who am I", get_me.sync(client=worker), StaffOut)
peer_me = step("who is the peer", get_me.sync(client=peer), StaffOut)
branch = me.branches[0]

created = step(
    "create a patron",
    create_patron.sync(
        client=worker,
        body=NewPatronIn(preferred_name="Jordan Testcase", birth_year=1990, home_branch_id=branch),
        idempotency_key="generated-client-1",
    ),
    PatronCreatedOut,
)
patron = created.patron
step("read the patron", get_patron.sync(id=patron.id, client=worker), PatronOut)
found = step("search by name", search_patrons.sync(client=worker, q="jord"), PatronList)
assert any(p.id == patron.id for p in found.items)

step(
    "log a contact",
    create_contact.sync(
        client=worker,
        body=NewContactIn(
            branch_id=branch,
            patron_id=patron.id,
            kind=ContactKind.OUTREACH,
            needs=[Need.HOUSING, Need.FOOD],
            note="Met by the computers.\nAsked about the shelter list.",
        ),
    ),
    ContactOut,
)
step("my contacts", list_my_contacts.sync(client=worker), ContactList)

case = step(
    "open a case",
    open_case.sync(client=worker, body=NewCaseIn(patron_id=patron.id, summary="Housing first.\nThen benefits.")),
    CaseOut,
)
case = step(
    "add the peer to the team",
    add_case_team_member.sync(id=case.id, client=worker, body=TeamMemberIn(staff_id=peer_me.id), if_match=f'"{case.version}"'),
    CaseOut,
)
note = step(
    "add a multi-line note",
    add_case_note.sync(id=case.id, client=worker, body=NewNoteIn(body="Called the shelter.\n- bed from Monday\n- bring ID")),
    NoteOut,
)
assert "\n- bed from Monday" in note.body
step(
    "add a restricted note",
    add_case_note.sync(id=case.id, client=worker, body=NewNoteIn(body="Disclosed a health condition.", sensitivity=Sensitivity.RESTRICTED)),
    NoteOut,
)
notes = step("list notes", list_case_notes.sync(id=case.id, client=worker), NoteList)
assert len(notes.items) == 2
peer_notes = step("the peer lists notes", list_case_notes.sync(id=case.id, client=peer), NoteList)
assert len(peer_notes.items) == 1, "a peer never sees a restricted note"
step("the peer reads the case summary", get_case.sync(id=case.id, client=peer), CaseOut)

step(
    "record a consent",
    create_consent.sync(
        id=patron.id,
        client=worker,
        body=NewConsentIn(recipient="Harbor Housing", scope="name, phone", purpose="housing referral", method=ConsentMethod.SIGNED),
    ),
    ConsentOut,
)
step("list consents", list_patron_consents.sync(id=patron.id, client=worker), ConsentList)
step(
    "set a follow-up",
    create_follow_up.sync(client=worker, body=NewFollowUpIn(case_id=case.id, due_on=__import__("datetime").date.today())),
    FollowUpOut,
)
step("my follow-ups", list_my_follow_ups.sync(client=worker), FollowUpList)
load = step("my caseload", list_my_caseload.sync(client=worker), Caseload)
assert any(i.case.id == case.id for i in load.items)

# Referrals: a directory service, then the consent gate, then the agency's answer.
services = step("search the directory", search_services.sync(client=worker, q="pantry"), ServiceList)
pantry = services.items[0]
gated = step(
    "refer to the pantry, sharing identity",
    create_referral.sync(
        client=worker,
        body=NewReferralIn(patron_id=patron.id, case_id=case.id, service_id=pantry.id, needs=[Need.FOOD], shares_identifying_data=True),
    ),
    ReferralOut,
)
refused = step(
    "no consent names the pantry",
    move_referral.sync(id=gated.id, client=worker, body=ReferralMoveIn(to=ReferralStatus.REQUESTED), if_match='"1"'),
    Problem,
)
assert refused.status == 409 and refused.errors[0].field == "consent"
housing = step(
    "refer to Harbor Housing (consent recorded above)",
    create_referral.sync(
        client=worker,
        body=NewReferralIn(patron_id=patron.id, case_id=case.id, recipient="Harbor Housing", needs=[Need.HOUSING], shares_identifying_data=True),
    ),
    ReferralOut,
)
housing = step(
    "request it",
    move_referral.sync(id=housing.id, client=worker, body=ReferralMoveIn(to=ReferralStatus.REQUESTED), if_match='"1"'),
    ReferralOut,
)
housing = step(
    "the agency received it (by phone)",
    move_referral.sync(
        id=housing.id, client=worker, body=ReferralMoveIn(to=ReferralStatus.RECEIVED, on_behalf_of_agency=True), if_match='"2"'
    ),
    ReferralOut,
)
read = step("read the referral", get_referral.sync(id=housing.id, client=worker), ReferralOut)
assert [h.to for h in read.history] == [ReferralStatus.DRAFT, ReferralStatus.REQUESTED, ReferralStatus.RECEIVED]
step("my referrals", list_my_referrals.sync(client=worker), ReferralList)

# A mandated report: the author reads it, the peer on the team gets a 404.
report = step(
    "write a mandated report",
    create_mandated_report.sync(
        client=worker,
        body=NewMandatedReportIn(
            patron_id=patron.id,
            kind=MandatedReportKind.ADULT_PROTECTIVE_SERVICES,
            agency="County APS (invented)",
            learned_at=__import__("datetime").datetime.now(__import__("datetime").timezone.utc),
            persons_concerned="An older adult (invented).",
            what_was_reported="Invented for the client test.\nSecond line.",
        ),
    ),
    MandatedReportOut,
)
hidden = step("the peer cannot see it", get_mandated_report.sync(id=report.id, client=peer), Problem)
assert hidden.status == 404
supervisor = signed_in("supervisor", "demo-supervisor-password")
stats = step("statistics by need", contact_statistics.sync(client=supervisor, group_by=ContactGroupBy.NEED), StatsOut)
assert stats.total

# A stale change is a 412 problem with the current record; a bad field a 422.
stale = step(
    "a stale update is a problem",
    update_case.sync(id=case.id, client=worker, body=CasePatchIn(summary="Old view."), if_match='"1"'),
    Problem,
)
assert stale.status == 412 and stale.current is not None
invalid = step(
    "an invalid close is a problem",
    close_case.sync(id=case.id, client=worker, body=ReasonIn(reason=" "), if_match=f'"{case.version}"'),
    Problem,
)
assert invalid.status == 422 and invalid.errors[0].field == "reason"
closed = step(
    "close the case",
    close_case.sync(id=case.id, client=worker, body=ReasonIn(reason="Housed.\nNo further need."), if_match=f'"{case.version}"'),
    CaseOut,
)
missing = step("a hidden record is a problem", get_patron.sync(id=UUID(int=0), client=worker), Problem)
assert missing.status == 404

# Security's side of the wall, and the one door through it.
from casework_client.api.incidents import amend_incident, create_incident, get_incident, search_incidents
from casework_client.api.suspensions import create_suspension, list_active_branch_suspensions
from casework_client.api.support_requests import (
    create_support_request,
    get_support_request,
    list_support_requests,
    receive_support_request,
)
from casework_client.models import (
    ActionTaken,
    ActiveSuspensionList,
    AmendmentIn,
    AmendmentOut,
    IncidentCategory,
    IncidentField,
    IncidentList,
    IncidentOut,
    NewIncidentIn,
    NewSupportRequestIn,
    NewSuspensionIn,
    NotifiedHow,
    ResponderIn,
    ResponderPart,
    SupportRequestList,
    SupportRequestMoveIn,
    SupportRequestOut,
    SupportRequestStatus,
    SuspensionOut,
    SuspensionScope,
    Urgency,
)

now = __import__("datetime").datetime.now(__import__("datetime").timezone.utc)
security = signed_in("security", "demo-security-password")
staff = signed_in("staff", "demo-staff-password")
staff_me = step("who is the librarian", get_me.sync(client=staff), StaffOut)
incident = step(
    "staff report an incident",
    create_incident.sync(
        client=staff,
        body=NewIncidentIn(
            branch_id=branch,
            occurred_at=now,
            category=IncidentCategory.UNATTENDED_CHILD,
            description="A child waiting alone by the returns desk (invented).\nSecond line.",
            action_taken=ActionTaken.NONE,
            responders=[ResponderIn(staff_id=staff_me.id, part=ResponderPart.LEAD)],
        ),
    ),
    IncidentOut,
)
step("security finds it by a word", search_incidents.sync(client=security, q="returns"), IncidentList)
step(
    "security amends it",
    amend_incident.sync(id=incident.id, client=security, body=AmendmentIn(text="A parent arrived at 4 pm.")),
    AmendmentOut,
)
read = step("staff read it with its amendment", get_incident.sync(id=incident.id, client=staff), IncidentOut)
assert read.amendments and read.amendments[0].text == "A parent arrived at 4 pm."
walled = step("the social worker cannot see it", get_incident.sync(id=incident.id, client=worker), Problem)
assert walled.status == 404
step(
    "security records a suspension",
    create_suspension.sync(
        client=security,
        body=NewSuspensionIn(
            person="Adult in a grey hat (invented)",
            scope=SuspensionScope.SYSTEM_WIDE,
            ends_at=now + __import__("datetime").timedelta(days=7),
            reason="Invented.",
            notified_how=NotifiedHow.LETTER,
        ),
    ),
    SuspensionOut,
)
active = step(
    "the branch's active suspensions",
    list_active_branch_suspensions.sync(id=branch, client=staff),
    ActiveSuspensionList,
)
assert any(a.person == "Adult in a grey hat (invented)" for a in active.items)
asked = step(
    "staff ask social work for help",
    create_support_request.sync(
        client=staff,
        body=NewSupportRequestIn(
            branch_id=branch,
            urgency=Urgency.URGENT,
            needed="Please come to the returns desk.",
            incident_id=incident.id,
            share=[IncidentField.DESCRIPTION],
        ),
    ),
    SupportRequestOut,
)
inbox = step(
    "the social worker's inbox",
    list_support_requests.sync(client=worker, status=SupportRequestStatus.OPEN),
    SupportRequestList,
)
mine = [r for r in inbox.items if r.id == asked.id][0]
assert mine.shared.description.startswith("A child waiting alone")
step(
    "the social worker receives it",
    receive_support_request.sync(id=asked.id, client=worker, body=SupportRequestMoveIn(), if_match='"1"'),
    SupportRequestOut,
)
status = step("the requester sees the status", get_support_request.sync(id=asked.id, client=staff), SupportRequestOut)
assert status.status == SupportRequestStatus.RECEIVED and status.received_team
assert not status.needed and not status.received_by

# Training and program review.
from casework_client.api.training import branch_certification_coverage, list_expiring_certifications, list_trainings
from casework_client.api.rules import list_rules
from casework_client.api.statistics import incident_statistics
from casework_client.models import CoverageList, HoldingList, IncidentGroupBy, IncidentStatsOut, RuleList, TrainingList

step("the training catalogue", list_trainings.sync(client=staff), TrainingList)
rules = step("the rules in force at the branch", list_rules.sync(client=peer, branch_id=branch), RuleList)
assert any(r.code == "no_sleeping" for r in rules.items)
expiring = step(
    "whose certifications expire soon",
    list_expiring_certifications.sync(id=branch, client=supervisor, days=90),
    HoldingList,
)
assert expiring.items, "the demo has one expiring within a month"
step("coverage at the branch", branch_certification_coverage.sync(id=branch, client=supervisor), CoverageList)
review = step(
    "incidents by resolution",
    incident_statistics.sync(client=supervisor, group_by=IncidentGroupBy.RESOLUTION),
    IncidentStatsOut,
)
assert review.rows
# The worker's tablet: a first sync, paged, then an up-to-date one.
from casework_client.api.sync import sync_feed
from casework_client.models import SyncKind, SyncPageOut

held = {}
cursor = None
while True:
    page = step("sync the tablet", sync_feed.sync(client=worker, limit=200, cursor=cursor), SyncPageOut)
    for item in page.items:
        held[(item.kind, item.id)] = item
    cursor = page.next_cursor
    if not page.more:
        break
assert (SyncKind.CASE, case.id) in held and held[(SyncKind.CASE, case.id)].case.patron_id == patron.id
quiet = step("an up-to-date tablet", sync_feed.sync(client=worker, cursor=cursor), SyncPageOut)
assert not quiet.items and not quiet.removed and not quiet.more
print(f"a day of casework: {steps} steps, all passed")
