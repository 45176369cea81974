"""The console's administration pages (/console/admin): organizations, their tokens and
accounts, the two-person approval switch, receiver health and nationwide tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alertcommons.hub import accounts, national_tests, organizations
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
