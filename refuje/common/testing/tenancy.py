"""Tenant-isolation matrix for API tests.

A *world* holds two hotels, A and B, each with a VIEWER, STAFF, ADMIN and SUPERADMIN member and a
department (assigned to the STAFF member), plus a platform operator, two guests (`guest` owns
whatever guest data a test sets up; `other_guest` must never reach it) and an anonymous visitor.
Every persona has its own browser-like client: signed in with real JWT cookies from
`session_start` (or a Django session), a CSRF cookie, `X-CSRFToken` on unsafe requests, and
`enforce_csrf_checks=True`, so CSRF stays switched on.

Each app states, per endpoint, which status every persona gets; `world.check(case)` makes the
request and asserts the status, the error code, that every 404 is identical to the 404 of a
missing object, and that nothing changed in the watched tables (full row contents) unless the
case is a successful write.

    from refuje.common.testing.tenancy import Endpoint, hotel_scoped, matrix_cases

    ENDPOINTS = [
        Endpoint("requests-list", "GET", "/api/v1/hotels/{w.a.slug}/requests/",
                 expect=hotel_scoped(minimum=Role.STAFF, ok=200)),
        Endpoint("request-transition", "POST",
                 "/api/v1/hotels/{w.a.slug}/requests/{w.extra[b_request].pk}/transition/",
                 body={"action": "acknowledge"},
                 setup=lambda w: w.extra.update(b_request=ServiceRequestFactory(hotel=w.b.hotel)),
                 expect=hotel_scoped(minimum=Role.STAFF, ok=404),   # B's id through A's URL
                 watch=(ServiceRequest, RequestActivity)),
    ]

    @pytest.mark.parametrize("case", matrix_cases(*ENDPOINTS))
    def test_tenant_matrix(tenant_world, case):
        tenant_world.check(case)

Paths and string values in bodies are `str.format` templates with the world as `w`
(`{w.a.slug}`, `{w.b.staff.pk}`, `{w.a.department.pk}`, `{w.extra[name].pk}`); a body may also be a
callable taking the world.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from django.conf import settings
from django.db import models
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.utils import translation
from rest_framework.response import Response
from rest_framework.test import APIClient

from refuje.accounts.models import User
from refuje.accounts.sessions import session_start
from refuje.common.errors import NotFound
from refuje.common.testing.factories import (
    DepartmentFactory,
    GuestFactory,
    HotelFactory,
    MembershipFactory,
    UserFactory,
)
from refuje.compliance.models import AuditEvent
from refuje.hotels.models import Department, Hotel, HotelMembership, Role, role_rank

ANONYMOUS = "anonymous"
GUEST = "guest"
OTHER_GUEST = "other_guest"
OPERATOR = "operator"
ROLES: tuple[str, ...] = (Role.VIEWER, Role.STAFF, Role.ADMIN, Role.SUPERADMIN)


def persona_name(tenant: str, role: str) -> str:
    return f"{tenant}_{str(role).lower()}"


PERSONAS: tuple[str, ...] = (
    ANONYMOUS,
    GUEST,
    OTHER_GUEST,
    OPERATOR,
    *(persona_name(tenant, role) for tenant in ("a", "b") for role in ROLES),
)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_WATCH: tuple[type[models.Model], ...] = (Hotel, Department, HotelMembership, User, AuditEvent)
DEFAULT_CODES: Mapping[int, str] = {401: "not_authenticated", 403: "role_too_low", 404: "not_found"}


def not_found_body() -> dict[str, str]:
    """The one 404 body: a missing object and another hotel's object must be indistinguishable."""
    with translation.override("en"):
        return {"detail": str(NotFound.default_detail), "code": NotFound.default_code}


# --- Expectations ---------------------------------------------------------------------------


def hotel_scoped(*, minimum: str, ok: int, hotel: str = "a", **overrides: int) -> dict[str, int]:
    """The usual shape for an endpoint under /hotels/{hotel}/:

    anonymous 401; guests and the other hotel's members 404 (the hotel's existence is not
    confirmed); members below `minimum` 403; members at or above it and the operator get `ok`.
    Keyword overrides win: `hotel_scoped(minimum=Role.ADMIN, ok=200, a_admin=403)`.
    """
    expect: dict[str, int] = {ANONYMOUS: 401, GUEST: 404, OTHER_GUEST: 404, OPERATOR: ok}
    for tenant in ("a", "b"):
        for role in ROLES:
            name = persona_name(tenant, role)
            if tenant != hotel:
                expect[name] = 404
            else:
                expect[name] = ok if role_rank(role) >= role_rank(minimum) else 403
    return _with_overrides(expect, overrides)


def everyone(status: int, **overrides: int) -> dict[str, int]:
    """Same status for every signed-in persona, 401 for anonymous, with overrides."""
    expect = dict.fromkeys(PERSONAS, status)
    expect[ANONYMOUS] = 401
    return _with_overrides(expect, overrides)


def _with_overrides(expect: dict[str, int], overrides: Mapping[str, int]) -> dict[str, int]:
    unknown = set(overrides) - set(PERSONAS)
    if unknown:
        raise ValueError(f"unknown personas {sorted(unknown)}")
    return {**expect, **overrides}


# --- Declarations ---------------------------------------------------------------------------

Body = Mapping[str, Any] | Callable[["TenantWorld"], Mapping[str, Any]] | None
Verify = Callable[["TenantWorld", str, Response], None]


@dataclass(frozen=True)
class Endpoint:
    """One request and what every persona must get from it.

    `expect` maps every persona in PERSONAS to a status (use `hotel_scoped`/`everyone`).
    `codes` are the error codes asserted per status. `watch` adds models whose rows must not
    change on refusals. `setup` prepares extra objects (store them in `world.extra`). `verify`
    runs after a successful response, e.g. to prove a list holds only the persona's hotel.
    """

    name: str
    method: str
    path: str
    expect: Mapping[str, int]
    body: Body = None
    codes: Mapping[int, str] = field(default_factory=lambda: dict(DEFAULT_CODES))
    watch: tuple[type[models.Model], ...] = ()
    setup: Callable[[TenantWorld], None] | None = None
    verify: Verify | None = None

    def __post_init__(self) -> None:
        missing = set(PERSONAS) - set(self.expect)
        if missing:
            raise ValueError(f"{self.name}: no expectation for {sorted(missing)}")


@dataclass(frozen=True)
class Case:
    endpoint: Endpoint
    persona: str
    status: int

    def __str__(self) -> str:
        return f"{self.endpoint.name}-{self.persona}-{self.status}"


def matrix_cases(*endpoints: Endpoint, personas: Sequence[str] = PERSONAS) -> list[Any]:
    """pytest params for every (endpoint × persona), with readable ids."""
    names = [endpoint.name for endpoint in endpoints]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise ValueError(f"endpoint names must be unique: {sorted(duplicates)}")
    return [
        pytest.param(Case(endpoint, persona, endpoint.expect[persona]), id=f"{endpoint.name}-{persona}")
        for endpoint in endpoints
        for persona in personas
    ]


# --- Browser-like clients -------------------------------------------------------------------


class BrowserClient(APIClient):
    """An API client that behaves like our web front end: CSRF checks enforced, the `csrftoken`
    cookie set, and `X-CSRFToken` sent on every unsafe request (switch off with
    `send_csrf_token = False` to prove a route refuses requests without it)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(enforce_csrf_checks=True, **kwargs)
        request = RequestFactory().get("/")
        self.csrf_token = get_token(request)
        self.cookies[settings.CSRF_COOKIE_NAME] = request.META["CSRF_COOKIE"]
        self.send_csrf_token = True

    def generic(self, method: str, *args: Any, **extra: Any) -> Any:
        if self.send_csrf_token and method.upper() in UNSAFE_METHODS:
            extra.setdefault("HTTP_X_CSRFTOKEN", self.csrf_token)
        return super().generic(method, *args, **extra)

    def sign_in(self, user: User, *, auth: str = "jwt") -> BrowserClient:
        """`jwt`: the HttpOnly cookie pair a real sign-in sets; `session`: a Django session."""
        if auth == "jwt":
            pair = session_start(user=user)
            self.cookies[settings.AUTH_ACCESS_COOKIE] = pair.access
            self.cookies[settings.AUTH_REFRESH_COOKIE] = pair.refresh
        elif auth == "session":
            self.force_login(user)
        else:
            raise ValueError("auth is 'jwt' (cookies from session_start) or 'session' (Django session)")
        return self


def browser_client(user: User | None = None, *, auth: str = "jwt") -> BrowserClient:
    client = BrowserClient()
    if user is not None:
        client.sign_in(user, auth=auth)
    return client


# --- The world ------------------------------------------------------------------------------


@dataclass
class Tenant:
    key: str
    hotel: Hotel
    department: Department
    members: dict[str, HotelMembership]

    @property
    def slug(self) -> str:
        return self.hotel.slug

    @property
    def viewer(self) -> HotelMembership:
        return self.members[Role.VIEWER]

    @property
    def staff(self) -> HotelMembership:
        return self.members[Role.STAFF]

    @property
    def admin(self) -> HotelMembership:
        return self.members[Role.ADMIN]

    @property
    def superadmin(self) -> HotelMembership:
        return self.members[Role.SUPERADMIN]


def build_tenant(key: str) -> Tenant:
    hotel: Hotel = HotelFactory.create(name_en=f"Hotel {key.upper()}")
    department: Department = DepartmentFactory.create(hotel=hotel)
    members: dict[str, HotelMembership] = {role: MembershipFactory.create(hotel=hotel, role=role) for role in ROLES}
    members[Role.STAFF].departments.add(department)
    return Tenant(key=key, hotel=hotel, department=department, members=members)


class TenantWorld:
    """Two hotels, every role, an operator, a guest, an anonymous visitor, one client each."""

    def __init__(self, *, auth: str = "jwt", language: str = "en") -> None:
        if auth not in ("jwt", "session"):
            raise ValueError("auth is 'jwt' (cookies from session_start) or 'session' (Django session)")
        self.auth = auth
        self.language = language
        self.a = build_tenant("a")
        self.b = build_tenant("b")
        self.operator: User = UserFactory.create(is_superuser=True, is_staff=True)
        self.guest: User = GuestFactory.create()
        self.other_guest: User = GuestFactory.create()
        self.extra: dict[str, Any] = {}
        self._clients: dict[str, BrowserClient] = {}

    def tenant(self, key: str) -> Tenant:
        return {"a": self.a, "b": self.b}[key]

    def user(self, persona: str) -> User | None:
        if persona == ANONYMOUS:
            return None
        if persona == GUEST:
            return self.guest
        if persona == OTHER_GUEST:
            return self.other_guest
        if persona == OPERATOR:
            return self.operator
        tenant, _, role = persona.partition("_")
        return self.tenant(tenant).members[role.upper()].user

    def hotels_of(self, persona: str) -> set[str]:
        """Slugs of the hotels this persona works in (every hotel for the operator)."""
        if persona == OPERATOR:
            return set(Hotel.objects.values_list("slug", flat=True))
        user = self.user(persona)
        if user is None:
            return set()
        return set(HotelMembership.objects.filter(user=user, is_active=True).values_list("hotel__slug", flat=True))

    # Clients sign in the way browsers do; CSRF is never switched off.
    def client(self, persona: str) -> BrowserClient:
        if persona not in self._clients:
            self._clients[persona] = browser_client(self.user(persona), auth=self.auth)
        return self._clients[persona]

    def render(self, template: Any) -> Any:
        if isinstance(template, str):
            return template.format(w=self)
        if isinstance(template, Mapping):
            return {key: self.render(value) for key, value in template.items()}
        if isinstance(template, list | tuple):
            return [self.render(value) for value in template]
        return template

    def request(
        self, persona: str, method: str, path: str, data: Any = None, *, csrf: bool = True, fmt: str = "json"
    ) -> Response:
        client = self.client(persona)
        call = getattr(client, method.lower())
        headers = {"HTTP_ACCEPT_LANGUAGE": self.language}
        client.send_csrf_token = csrf
        try:
            if data is None:
                return cast(Response, call(path, **headers))
            return cast(Response, call(path, data, format=fmt, **headers))
        finally:
            client.send_csrf_token = True

    # "Nothing changed": every column of every row of the watched tables, M2M links included.
    @staticmethod
    def watched_models(extra: Iterable[type[models.Model]] = ()) -> list[type[models.Model]]:
        found: list[type[models.Model]] = []
        for model in (*DEFAULT_WATCH, *extra):
            through = [f.remote_field.through for f in model._meta.local_many_to_many]
            for candidate in (model, *through):
                if candidate is not None and candidate not in found:
                    found.append(candidate)
        return found

    @classmethod
    def snapshot(cls, extra: Iterable[type[models.Model]] = ()) -> dict[str, list[tuple[Any, ...]]]:
        state: dict[str, list[tuple[Any, ...]]] = {}
        for model in cls.watched_models(extra):
            columns = [f.attname for f in model._meta.concrete_fields]
            state[model._meta.label] = list(model._base_manager.order_by("pk").values_list(*columns))
        return state

    def check(self, case: Case) -> Response:
        endpoint = case.endpoint
        if endpoint.setup is not None:
            endpoint.setup(self)
        path = self.render(endpoint.path)
        raw_body = endpoint.body(self) if callable(endpoint.body) else endpoint.body
        body = self.render(raw_body) if raw_body is not None else None
        self.client(case.persona)  # sign in before the snapshot: signing in writes last_login
        before = self.snapshot(endpoint.watch)

        response = self.request(case.persona, endpoint.method, path, body)

        label = f"{endpoint.method} {path} as {case.persona}"
        content = response.content.decode(errors="replace")[:500]
        if response.status_code != case.status:
            pytest.fail(f"{label}: {response.status_code}, wanted {case.status}: {content}")
        is_write = endpoint.method.upper() in UNSAFE_METHODS
        if (case.status >= 400 or not is_write) and self.snapshot(endpoint.watch) != before:
            pytest.fail(f"{label}: data changed although it must not")
        if case.status >= 400:
            payload = json.loads(response.content)
            if case.status == 404 and payload != not_found_body():
                pytest.fail(f"{label}: 404 differs from a missing object's: {payload}")
            expected_code = endpoint.codes.get(case.status)
            if expected_code is not None and payload.get("code") != expected_code:
                pytest.fail(f"{label}: code {payload.get('code')!r}, wanted {expected_code!r}: {payload}")
        elif endpoint.verify is not None:
            endpoint.verify(self, case.persona, response)
        return response


def build_tenant_world(*, auth: str = "jwt") -> TenantWorld:
    return TenantWorld(auth=auth)


@pytest.fixture
def tenant_world(db: None) -> TenantWorld:
    return build_tenant_world()
