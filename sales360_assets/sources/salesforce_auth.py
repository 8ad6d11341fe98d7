"""Where a Salesforce login may go and which credentials it uses: checked before anything is sent."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sales360_assets.sources.salesforce_errors import SalesforcePermanentError

AuthMode = Literal["password", "client_credentials", "session"]

# simple-salesforce logs in at https://{domain}.salesforce.com, so the setting is spliced into the
# URL that receives the password and token: only these forms keep it on a Salesforce host. A My
# Domain is <name>.my, <name>--<sandbox>.sandbox.my or <name>.<partition>.my (enhanced domains).
_MY_DOMAIN = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,78}[A-Za-z0-9])?"
    r"(?:\.(?:sandbox|develop|scratch|patch|demo|trailblaze|free))?\.my$"
)


def login_domain(domain: str) -> str:
    """SALESFORCE_DOMAIN as simple-salesforce takes it; refuses anything that could leave Salesforce.

    ``login`` and ``test`` are taken in any case (and lowered); a My Domain host as the browser shows it
    (``acme.my.salesforce.com``) is cut to the ``acme.my`` the library expects.
    """
    value = domain.strip() if isinstance(domain, str) else ""
    if value.lower().endswith(".salesforce.com"):
        value = value[: -len(".salesforce.com")]
    if value.lower() in ("login", "test"):
        return value.lower()
    if _MY_DOMAIN.fullmatch(value):
        return value
    shown = repr(domain)[:80] if isinstance(domain, str) else type(domain).__name__
    raise SalesforcePermanentError(
        f"SALESFORCE_DOMAIN={shown} is not a Salesforce login domain; nothing was sent. Set 'login' "
        "(production), 'test' (sandbox) or your My Domain without https:// and .salesforce.com, "
        "e.g. 'acme.my', 'acme--uat.sandbox.my' or 'acme-dev-ed.develop.my'"
    )


def auth_mode(domain: str, *, password_login: bool, client_credentials: bool, session: bool) -> AuthMode:
    """The login the configured credentials allow, in order of preference; refuses an unusable set.

    Each flag says whether that kind's credentials are complete (username + password, consumer
    key + secret, instance URL + session id). ``domain`` is already checked by ``login_domain``.
    """
    if password_login:
        return "password"
    if client_credentials:
        if domain in ("login", "test"):
            raise SalesforcePermanentError(
                "OAuth client credentials need your My Domain: set SALESFORCE_DOMAIN to e.g. "
                "'acme.my' (or 'acme--sandbox.sandbox.my'), not 'login'/'test'"
            )
        return "client_credentials"
    if session:
        return "session"
    raise SalesforcePermanentError(
        "no usable Salesforce credentials: set SALESFORCE_USERNAME + SALESFORCE_PASSWORD "
        "(+ SALESFORCE_SECURITY_TOKEN), or SALESFORCE_CONSUMER_KEY + SALESFORCE_CONSUMER_SECRET "
        "(+ SALESFORCE_DOMAIN), or SALESFORCE_INSTANCE_URL + SALESFORCE_SESSION_ID"
    )


@dataclass(frozen=True, repr=False)
class SalesforceCredentials:
    """What a login can use: username + password (+ security token), OAuth client credentials
    (consumer key + secret) or a ready session (instance URL + session id). Any kind may be
    incomplete; ``mode`` picks the usable one. The repr shows no value, whatever prints it."""

    username: str | None = None
    password: str | None = None
    security_token: str | None = None
    consumer_key: str | None = None
    consumer_secret: str | None = None
    instance_url: str | None = None
    session_id: str | None = None

    def __repr__(self) -> str:
        return "SalesforceCredentials(***)"

    def mode(self, domain: str) -> AuthMode:
        """``auth_mode`` for these credentials (``domain`` already checked by ``login_domain``)."""
        return auth_mode(
            domain,
            password_login=bool(self.username and self.password),
            client_credentials=bool(self.consumer_key and self.consumer_secret),
            session=bool(self.instance_url and self.session_id),
        )

    def secrets(self) -> list[str | None]:
        """Every value a message must not show, the password + token the SOAP login sends included."""
        values = [self.password, self.security_token, self.consumer_secret, self.session_id]
        if self.password and self.security_token:
            values.append(self.password + self.security_token)
        return values


def maskable(secrets: Iterable[str | None]) -> list[str]:
    """The strings to mask in any message: each secret as sent and HTML-escaped, longest first."""
    # Real secrets are long; masking 1-3 character strings would only garble messages.
    found = [v for v in secrets if v and len(v) >= 4]
    found += [html.escape(v) for v in found]
    # Longest first so a secret containing another is masked whole.
    return sorted(set(found), key=len, reverse=True)
