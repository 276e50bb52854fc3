"""Policies and acknowledgements; VDU training, workstation reviews, SLT exemptions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.db.models import Policy, Staff
from kiosk.domain.chain import text_fingerprint
from kiosk.domain.errors import InvalidInput, NotFound, RuleViolation
from kiosk.domain.events import EventKind, ReviewStatus, Role
from kiosk.domain.policytext import too_long, unshown_parts
from kiosk.domain.text import check_typed_line, name_key
from kiosk.domain.timeutil import format_local, local_date
from kiosk.services import state
from kiosk.services.common import UseCases, receipt
from kiosk.services.views import (
    AckGap,
    EventReceipt,
    Exemption,
    PolicyInfo,
    PolicyText,
    ReviewRequest,
    StaffInfo,
)


class PolicyService(UseCases):
    # --- policies ------------------------------------------------------------------------

    def publish(
        self,
        title: str,
        version: str,
        text: str,
        *,
        required: bool = True,
        published_by: str | None = None,
    ) -> PolicyInfo:
        """Publish a new version: everyone is asked to acknowledge it again."""
        title, version = check_typed_line(title, "title"), check_typed_line(version, "version")
        if not title or not version:
            raise InvalidInput("A policy needs a title and a version.")
        if len(title) > 200 or len(version) > 64:
            raise InvalidInput("The title (200) or version (64 characters) is too long.")
        if not text.strip():
            raise InvalidInput("The policy text is empty.")
        if "\x00" in text:
            raise InvalidInput("The policy file is not text.")
        long = too_long(text)
        if long:
            raise InvalidInput(
                f"The policy text is too long to read at the kiosk ({long}). Publish a "
                "shorter version, and say in it where staff can read the whole document."
            )
        hidden = unshown_parts(text)
        if hidden:
            more = f" (and {len(hidden) - 3} more)" if len(hidden) > 3 else ""
            raise InvalidInput(
                f"The policy text has parts the kiosk would not show: {'; '.join(hidden[:3])}"
                f"{more}. Staff would acknowledge words they were never shown. Write them as "
                "plain text, or remove them, and publish again."
            )
        with self.ctx.write() as uow:
            by = _admin(uow.session, published_by) if published_by else None
            exists = uow.session.scalar(
                select(Policy.id).where(Policy.title == title, Policy.version == version)
            )
            if exists is not None:
                raise RuleViolation(f"{title} version {version} is already published.")
            # A version typed a little differently ("spring  2018", "SPRING 2018") was a new
            # version beside the first: acknowledgements of two versions that read the same,
            # with different words, on every list, export and notice.
            versions = uow.session.scalars(select(Policy.version).where(Policy.title == title))
            same_version = next((v for v in versions if name_key(v) == name_key(version)), None)
            if same_version is not None:
                raise RuleViolation(
                    f"{title} version {same_version} is already published, and “{version}” "
                    "reads the same: give the new version a name that reads differently "
                    "(e.g. its date)."
                )
            # A policy is its title: one typed a little differently ("acceptable use policy",
            # two spaces) was a second policy beside the first, both in force, read the same
            # on every list, and the version meant to be replaced never was. (A title already
            # published is a new version of that policy: two that read the same from before
            # are not stopped from getting new versions.)
            titles = set(uow.session.scalars(select(Policy.title).distinct()))
            same = next(
                (other for other in sorted(titles) if name_key(other) == name_key(title)),
                None,
            )
            if same is not None and title not in titles:
                raise InvalidInput(
                    f"Not published: the title “{title}” reads the same as the policy "
                    f"“{same}”. For a new version of it, give its title exactly as it is "
                    f"(“{same}”); for another policy, a title that reads differently."
                )
            fingerprint = text_fingerprint(text)
            current = uow.session.scalar(
                select(Policy).where(Policy.title == title).order_by(Policy.id.desc()).limit(1)
            )
            if (
                current is not None
                and current.sha256 == fingerprint
                and bool(current.required) == required
            ):
                # The same words (the same SHA-256) as the version in force: every member of
                # staff would be asked to acknowledge them again, for nothing.
                since = format_local(current.published_at, self.ctx.settings.zone, "%d %B %Y")
                raise RuleViolation(
                    f"{title} version {version} was not published: its text is the same as "
                    f"version {current.version}, in force since {since} (the same SHA-256). "
                    "Everyone would be asked to acknowledge it again for nothing: is it the "
                    "right file?"
                )
            policy_id = uow.next_id("policies", title=title)
            uow.change_reference(
                "policies",
                policy_id,
                {
                    "title": title,
                    "version": version,
                    "text": text,
                    "sha256": fingerprint,
                    "required": required,
                    "published_at": uow.now,
                },
                by=by.id if by else None,
            )
            policy = uow.session.get_one(Policy, policy_id)
            uow.record(
                EventKind.ADMIN_ACTION,
                staff_id=by.id if by else None,
                policy_id=policy.id,
                details={"action": "policy_published", "title": title, "version": version},
            )
            return state.policy_info(policy)

    def current(self) -> tuple[PolicyInfo, ...]:
        with self.ctx.read() as session:
            return tuple(state.policy_info(p) for p in state.current_policies(session))

    def all_versions(self) -> tuple[PolicyInfo, ...]:
        with self.ctx.read() as session:
            rows = session.scalars(select(Policy).order_by(Policy.title, Policy.id))
            return tuple(state.policy_info(p) for p in rows)

    def text(self, policy_id: int) -> PolicyText:
        with self.ctx.read() as session:
            policy = session.get(Policy, policy_id)
            if policy is None:
                raise NotFound("That policy no longer exists.")
            return PolicyText(state.policy_info(policy), policy.text)

    def outstanding(self, staff_code: str) -> tuple[PolicyInfo, ...]:
        with self.ctx.read() as session:
            staff = state.get_staff(session, staff_code)
            return tuple(state.outstanding_policies(session, staff.id))

    def acknowledge(self, staff_code: str, policy_id: int, shown_sha256: str) -> EventReceipt:
        """Record that the person read and agreed this exact text (by its fingerprint)."""
        with self.ctx.write() as uow:
            staff = state.get_staff_info(uow.session, staff_code)
            policy = uow.session.get(Policy, policy_id)
            if policy is None:
                raise NotFound("That policy no longer exists.")
            current = {p.id for p in state.current_policies(uow.session)}
            if policy.id not in current:
                raise RuleViolation(
                    f"{policy.title} {policy.version} has been replaced by a newer version. "
                    "Please read the new one."
                )
            if shown_sha256 != policy.sha256:
                raise RuleViolation(
                    "The policy text changed while it was open. Please read it again."
                )
            if (policy.id, staff.id) in state.acknowledged_pairs(uow.session, [policy.id]):
                raise RuleViolation(
                    f"{staff.name} has already acknowledged {policy.title} {policy.version}."
                )
            event = uow.record(
                EventKind.POLICY_ACKNOWLEDGED,
                staff_id=staff.id,
                policy_id=policy.id,
                details={"version": policy.version, "sha256": policy.sha256, "title": policy.title},
            )
            return receipt(event, staff, f"{policy.title} ({policy.version}) acknowledged")

    def gaps(self) -> tuple[AckGap, ...]:
        """For each current policy: who has acknowledged it and who has not (active staff)."""
        with self.ctx.read() as session:
            policies = state.current_policies(session)
            done = state.acknowledged_pairs(session, [p.id for p in policies])
            people = _active_staff(session)
            gaps = []
            for policy in policies:
                acked = tuple(s for s in people if (policy.id, s.id) in done)
                missing = tuple(s for s in people if (policy.id, s.id) not in done)
                gaps.append(AckGap(state.policy_info(policy), acked, missing))
            return tuple(gaps)

    # --- VDU training and workstation reviews ---------------------------------------------

    def declare_vdu_training(self, staff_code: str, completed_on: date) -> EventReceipt:
        with self.ctx.write() as uow:
            staff = state.get_staff_info(uow.session, staff_code)
            today = local_date(uow.now, self.ctx.settings.zone)
            if completed_on > today:
                raise InvalidInput("The training date cannot be in the future.")
            if completed_on.year < 2000:
                raise InvalidInput("Please check the training date.")
            event = uow.record(
                EventKind.VDU_TRAINING_DECLARED,
                staff_id=staff.id,
                details={"completed_on": completed_on.isoformat()},
            )
            return receipt(
                event, staff, f"Display-screen training recorded ({completed_on:%d %b %Y})"
            )

    def staff_without_vdu(self) -> tuple[StaffInfo, ...]:
        with self.ctx.read() as session:
            trained = state.vdu_trained_ids(session)
            return tuple(s for s in _active_staff(session) if s.id not in trained)

    def request_workstation_review(self, staff_code: str, needs: str) -> EventReceipt:
        needs = check_typed_line(needs, "request", limit=1000)
        if not needs:
            raise InvalidInput("Please say briefly what you need (e.g. a laptop stand).")
        if len(needs) > 1000:
            raise InvalidInput("Please keep it under 1000 characters.")
        with self.ctx.write() as uow:
            staff = state.get_staff_info(uow.session, staff_code)
            event = uow.record(
                EventKind.WORKSTATION_REVIEW_REQUESTED, staff_id=staff.id, details={"needs": needs}
            )
            # Says only what happens: the request is listed in the admin console (VDU tab);
            # no message is sent to anyone.
            return receipt(event, staff, "Workstation review requested: listed for the office")

    def update_review(
        self,
        request_event_id: int,
        status: ReviewStatus,
        *,
        admin_code: str,
        note: str = "",
        seen: str | None = None,
    ) -> EventReceipt:
        """Mark a review request taken up or done. ``seen``: the status the admin was shown
        (the console's list, read a moment ago): if it has changed since (another console
        marked it), nothing is recorded and the error says what it is now."""
        if status is ReviewStatus.OPEN:
            raise InvalidInput("A review can be marked taken up or done.")
        note = check_typed_line(note, "note")
        with self.ctx.write() as uow:
            admin = _admin(uow.session, admin_code)
            request = state.get_event(uow.session, request_event_id)
            if request.kind != EventKind.WORKSTATION_REVIEW_REQUESTED.value:
                raise NotFound(f"Event {request_event_id} is not a workstation review request.")
            now = state.review_status(uow.session, request.id)
            if seen is not None and now != seen:
                person = uow.session.get(Staff, request.staff_id) if request.staff_id else None
                whose = f"{person.name}'s request" if person is not None else "The request"
                raise RuleViolation(
                    f"{whose} was marked {now.replace('_', ' ')} meanwhile (from "
                    "another console): nothing recorded. Cancel, and look at the list again."
                )
            event = uow.record(
                EventKind.WORKSTATION_REVIEW_UPDATED,
                staff_id=request.staff_id,
                recorded_by_id=admin.id,
                target_event_id=request.id,
                details={"status": status.value, "note": note.strip()},
            )
            return receipt(
                event, None, f"Workstation review marked {status.value.replace('_', ' ')}"
            )

    def reviews(self, *, open_only: bool = True) -> tuple[ReviewRequest, ...]:
        with self.ctx.read() as session:
            return tuple(state.review_requests(session, open_only=open_only))

    # --- SLT exemptions --------------------------------------------------------------------

    def grant_exemption(
        self, staff_code: str, *, granted_by: str, until: date, admin_code: str
    ) -> EventReceipt:
        """Phone use on site at the Head Teacher's discretion, until a date."""
        with self.ctx.write() as uow:
            staff = state.get_staff_info(uow.session, staff_code)
            admin = _admin(uow.session, admin_code)
            if not staff.has_role(Role.SLT.value):
                raise RuleViolation(f"{staff.name} is not on the Senior Leadership Team.")
            if not granted_by.strip():
                raise InvalidInput("Name the Head Teacher who granted it.")
            check_typed_line(granted_by, "name of who granted it")
            if until < local_date(uow.now, self.ctx.settings.zone):
                raise InvalidInput("The end date is in the past.")
            event = uow.record(
                EventKind.EXEMPTION_GRANTED,
                staff_id=staff.id,
                recorded_by_id=admin.id,
                details={"granted_by": granted_by.strip(), "until": until.isoformat()},
            )
            return receipt(event, staff, f"Phone exemption granted until {until:%d %b %Y}")

    def revoke_exemption(
        self, staff_code: str, *, revoked_by: str, admin_code: str
    ) -> EventReceipt:
        with self.ctx.write() as uow:
            staff = state.get_staff_info(uow.session, staff_code)
            admin = _admin(uow.session, admin_code)
            today = local_date(uow.now, self.ctx.settings.zone)
            if state.exemption_of(uow.session, staff, today) is None:
                raise RuleViolation(f"{staff.name} has no current phone exemption.")
            # As for a grant: who revoked it is given, never the admin's own name put in
            # for nobody chosen (the register said the office had revoked it).
            if not revoked_by.strip():
                raise InvalidInput("Name the Head Teacher who revoked it.")
            check_typed_line(revoked_by, "name of who revoked it")
            event = uow.record(
                EventKind.EXEMPTION_REVOKED,
                staff_id=staff.id,
                recorded_by_id=admin.id,
                details={"revoked_by": revoked_by.strip()},
            )
            return receipt(event, staff, "Phone exemption revoked")

    def exemptions(self) -> tuple[Exemption, ...]:
        with self.ctx.read() as session:
            today = local_date(self.ctx.clock(), self.ctx.settings.zone)
            found = (state.exemption_of(session, s, today) for s in _active_staff(session))
            return tuple(e for e in found if e is not None)


def _active_staff(session: Session) -> list[StaffInfo]:
    people = list(
        session.scalars(select(Staff).where(Staff.retired_at.is_(None)).order_by(Staff.name))
    )
    infos = state.staff_infos(session, people)
    return [infos[p.id] for p in people]


def _admin(session: Session, code: str) -> StaffInfo:
    admin = state.get_staff_info(session, code)
    if not admin.has_role(Role.ADMIN.value):
        raise RuleViolation(f"{admin.name} is not an admin: only admins can do this.")
    return admin
