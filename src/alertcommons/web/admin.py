"""The console's administration pages (/console/admin): organizations, their tokens and
accounts, the two-person approval switch, receiver health, nationwide tests, and the CAP
sources the hub reads (added, changed, paused and removed through ``hub/sources.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alertcommons.hub import accounts, national_tests, organizations, sources
from alertcommons.hub.services import Services
from alertcommons.jp import national_test
from alertcommons.problems import NotFound, ProblemError
from alertcommons.store import endpoints as endpoint_queries
from alertcommons.store import orgs, users

from . import words
from .guard import Refused, checked_form, hub_of, render, require_admin, signed_in
from .sessions import ConsoleUser

router = APIRouter(prefix="/console/admin", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def admin_page(request: Request) -> HTMLResponse:
    user = await signed_in(request)
    require_admin(user)
    hub = hub_of(request)

    def load(connection: Any) -> dict[str, Any]:
        return {
            "organizations": [orgs.org_to_dict(row) for row in orgs.list_orgs(connection)],
            "endpoints": endpoint_queries.all_endpoints(connection),
        }

    loaded = {**await hub.store.read(load), "tests": await national_tests.recent(hub)}
    names = {org["id"]: org["name"] for org in loaded["organizations"]}
    return render(request, "console_admin.html", user, names=names, **loaded)


async def _org_page(
    request: Request,
    user: ConsoleUser,
    org_id: str,
    new_token: str | None = None,
    notice: str | None = None,
    new_password: dict[str, str] | None = None,
) -> HTMLResponse:
    hub = hub_of(request)

    limit = hub.settings.login_max_failures

    def load(connection: Any) -> dict[str, Any] | None:
        organization = orgs.get_org(connection, org_id)
        if organization is None:
            return None
        return {
            "organization": orgs.org_to_dict(organization),
            "tokens": orgs.list_tokens(connection, org_id),
            "accounts": [
                {**row._asdict(), "locked": users.is_locked(row, limit)}
                for row in users.users_of(connection, org_id)
            ],
        }

    loaded = await hub.store.read(load)
    if loaded is None:
        raise Refused(404, "その機関はありません。 No such organization.")
    return render(
        request,
        "console_org.html",
        user,
        new_token=new_token,
        notice=notice,
        new_password=new_password,
        roles=users.ROLES,
        **loaded,
    )


@router.get("/organizations/{org_id}", response_class=HTMLResponse)
async def organization_page(org_id: str, request: Request) -> HTMLResponse:
    user = await signed_in(request)
    require_admin(user)
    return await _org_page(request, user, org_id)


@router.post("/organizations/{org_id}/tokens", response_class=HTMLResponse)
async def issue_token(org_id: str, request: Request) -> HTMLResponse:
    user = await signed_in(request)
    require_admin(user)
    form = await checked_form(request, user)
    label = (form.get("label") or "").strip()[:200] or None
    try:
        issued = await organizations.issue_token(
            hub_of(request), user.principal().actor, org_id, label
        )
    except NotFound:
        raise Refused(404, "その機関はありません。 No such organization.") from None
    return await _org_page(request, user, org_id, new_token=issued.token)


@router.post("/organizations/{org_id}/tokens/{token_id}/revoke")
async def revoke_token(org_id: str, token_id: str, request: Request) -> Response:
    user = await signed_in(request)
    require_admin(user)
    await checked_form(request, user)
    try:
        await organizations.revoke_token(hub_of(request), user.principal().actor, org_id, token_id)
    except NotFound:
        raise Refused(404, "そのトークンはありません。 No such token.") from None
    return RedirectResponse(f"/console/admin/organizations/{org_id}", status_code=303)


@router.post("/organizations/{org_id}/approval", response_class=HTMLResponse)
async def set_approval(org_id: str, request: Request) -> Response:
    user = await signed_in(request)
    require_admin(user)
    form = await checked_form(request, user)
    wanted = form.get("two_person_approval") == "on"
    try:
        await organizations.update(
            hub_of(request), user.principal().actor, org_id, {"two_person_approval": wanted}
        )
    except NotFound:
        raise Refused(404, "No such organization.") from None
    return RedirectResponse("/console/admin", status_code=303)


@router.post("/national-tests", response_class=HTMLResponse)
async def send_national_test(request: Request) -> Response:
    user = await signed_in(request)
    require_admin(user)
    form = await checked_form(request, user)
    if form.get("confirmed") != "yes":
        # Every receiver that takes tests gets it: a second page says so before it goes.
        message = national_test.test_message()
        return render(
            request,
            "console_national_confirm.html",
            user,
            texts=[
                (i.language or "", i.headline or "", i.description or "") for i in message.infos
            ],
        )
    outcome = await national_tests.start(hub_of(request), user.principal().actor)
    return RedirectResponse(f"/console/alerts/{outcome.alert_id}", status_code=303)


# ---------------------------------------------------------------- console accounts


async def _account_change(
    request: Request, org_id: str, change: Callable[[Services, str], Awaitable[str]]
) -> HTMLResponse:
    """Run one account change (``hub/organizations.py``, audited) and show the organization
    page with what was done."""
    user = await signed_in(request)
    require_admin(user)
    try:
        notice = await change(hub_of(request), user.principal().actor)
    except ProblemError as exc:
        raise Refused(exc.status, exc.detail) from None
    return await _org_page(request, user, org_id, notice=notice)


@router.post("/organizations/{org_id}/users/{user_id}/active", response_class=HTMLResponse)
async def set_account_active(org_id: str, user_id: str, request: Request) -> HTMLResponse:
    form = await checked_form(request, await signed_in(request))
    wanted = form.get("active") == "on"
    tr = words.chooser(words.console_language(request))

    async def change(hub: Services, actor: str) -> str:
        row = await organizations.update_user(hub, actor, org_id, user_id, active=wanted)
        done = (
            tr("有効にしました", "enabled")
            if wanted
            else tr("無効にし、サインアウトさせました", "disabled and signed out")
        )
        return f"{row.username}: {done}"

    return await _account_change(request, org_id, change)


@router.post("/organizations/{org_id}/users/{user_id}/sessions", response_class=HTMLResponse)
async def end_account_sessions(org_id: str, user_id: str, request: Request) -> HTMLResponse:
    await checked_form(request, await signed_in(request))
    tr = words.chooser(words.console_language(request))

    async def change(hub: Services, actor: str) -> str:
        ended = await organizations.end_user_sessions(hub, actor, org_id, user_id)
        name = (await hub.store.read(lambda c: accounts.find(c, org_id, user_id))).username
        return f"{name}: " + tr(f"{ended} 件のセッションを終了しました", f"{ended} sessions ended")

    return await _account_change(request, org_id, change)


@router.post("/organizations/{org_id}/users/{user_id}/roles", response_class=HTMLResponse)
async def set_account_roles(org_id: str, user_id: str, request: Request) -> HTMLResponse:
    form = await checked_form(request, await signed_in(request))
    # one checkbox per role (role_drafter=on …): a form field holds one value only
    wanted = [role for role in users.ROLES if form.get(f"role_{role}") == "on"]
    tr = words.chooser(words.console_language(request))

    async def change(hub: Services, actor: str) -> str:
        row = await organizations.update_user(hub, actor, org_id, user_id, roles=wanted)
        return f"{row.username}: {tr('権限', 'roles')} = {row.roles}"

    return await _account_change(request, org_id, change)


@router.post("/organizations/{org_id}/users/{user_id}/password", response_class=HTMLResponse)
async def reset_account_password(org_id: str, user_id: str, request: Request) -> HTMLResponse:
    user = await signed_in(request)
    require_admin(user)
    await checked_form(request, user)
    try:
        # a new password made here and shown once: an admin never chooses a user's password
        row, password, _ = await organizations.reset_password(
            hub_of(request), user.principal().actor, org_id, user_id, None
        )
    except ProblemError as exc:
        raise Refused(exc.status, exc.detail) from None
    return await _org_page(
        request,
        user,
        org_id,
        notice=f"{row.username}: "
        + words.chooser(words.console_language(request))(
            "パスワードを再設定し、サインアウトさせました", "password reset and signed out"
        ),
        new_password={"username": row.username, "password": password},
    )


# ---------------------------------------------------------------- CAP sources

SOURCE_FIELDS = ("name", "url", "directory", "organization", "certificates", "allowed_hosts")


def _source_values(form: dict[str, str]) -> dict[str, Any]:
    """A source as the form gives it; ``hub/sources.py`` checks it as it checks the API's."""
    values: dict[str, Any] = {name: form.get(name, "").strip() for name in SOURCE_FIELDS}
    values["allowed_hosts"] = values["allowed_hosts"].replace(",", " ").split()
    values["allow_unsigned"] = form.get("allow_unsigned") == "on"
    values["active"] = form.get("active") == "on"
    poll = form.get("poll_seconds", "").strip()
    try:
        values["poll_seconds"] = float(poll) if poll else None
    except ValueError:
        values["poll_seconds"] = poll  # refused by the check, with the field named
    return values


async def _sources_page(
    request: Request,
    user: ConsoleUser,
    *,
    editing: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    hub = hub_of(request)
    listed = await sources.listing(hub)
    issuers = await hub.store.read(
        lambda c: [orgs.org_to_dict(row) for row in orgs.list_orgs(c) if row.kind == "issuer"]
    )
    return render(
        request,
        "console_sources.html",
        user,
        status=status,
        sources=listed["sources"],
        problems=listed["problems"],
        issuers=issuers,
        issuer_names={
            **{o["sender"]: o["name"] for o in issuers if o.get("sender")},
            **{o["id"]: o["name"] for o in issuers},
        },
        editing=editing,
        error=error,
        default_poll=hub.settings.cap_source_poll_seconds,
        folders_allowed=bool(hub.settings.cap_source_directories.strip()),
    )


@router.get("/sources", response_class=HTMLResponse)
async def sources_page(request: Request) -> HTMLResponse:
    user = await signed_in(request)
    require_admin(user)
    return await _sources_page(request, user)


@router.get("/sources/{source_id}", response_class=HTMLResponse)
async def source_page(source_id: str, request: Request) -> HTMLResponse:
    user = await signed_in(request)
    require_admin(user)
    try:
        found = await sources.get(hub_of(request), source_id)
    except ProblemError as exc:
        raise Refused(exc.status, exc.detail) from None
    if not found.get("editable"):
        raise Refused(409, "設定で構成された取得元は、ここでは変更できません。 Set in settings.")
    return await _sources_page(request, user, editing=found)


@router.post("/sources", response_class=HTMLResponse)
async def add_source(request: Request) -> Response:
    user = await signed_in(request)
    require_admin(user)
    values = _source_values(await checked_form(request, user))
    try:
        await sources.create(hub_of(request), user.principal().actor, values)
    except ProblemError as exc:
        # The form again, as typed, with what is wrong: nothing was kept.
        return await _sources_page(
            request, user, editing={**values, "id": None}, error=exc.detail, status=exc.status
        )
    return RedirectResponse("/console/admin/sources", status_code=303)


@router.post("/sources/{source_id}", response_class=HTMLResponse)
async def change_source(source_id: str, request: Request) -> Response:
    user = await signed_in(request)
    require_admin(user)
    values = _source_values(await checked_form(request, user))
    if not values["certificates"]:
        del values["certificates"]  # left empty: the certificates kept stay as they are
    try:
        await sources.update(hub_of(request), user.principal().actor, source_id, values)
    except ProblemError as exc:
        if exc.status == 404:
            raise Refused(404, "その取得元はありません。 No such source.") from None
        return await _sources_page(
            request,
            user,
            editing={**values, "id": source_id},
            error=exc.detail,
            status=exc.status,
        )
    return RedirectResponse("/console/admin/sources", status_code=303)


@router.post("/sources/{source_id}/active", response_class=HTMLResponse)
async def pause_source(source_id: str, request: Request) -> Response:
    user = await signed_in(request)
    require_admin(user)
    form = await checked_form(request, user)
    wanted = {"active": form.get("active") == "on"}
    try:
        await sources.update(hub_of(request), user.principal().actor, source_id, wanted)
    except ProblemError as exc:
        raise Refused(exc.status, exc.detail) from None
    return RedirectResponse("/console/admin/sources", status_code=303)


@router.post("/sources/{source_id}/delete", response_class=HTMLResponse)
async def delete_source(source_id: str, request: Request) -> Response:
    user = await signed_in(request)
    require_admin(user)
    await checked_form(request, user)
    try:
        await sources.delete(hub_of(request), user.principal().actor, source_id)
    except ProblemError as exc:
        raise Refused(exc.status, exc.detail) from None
    return RedirectResponse("/console/admin/sources", status_code=303)
