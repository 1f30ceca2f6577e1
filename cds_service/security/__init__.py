"""Security: verifying the EHR's JWT (keys, trusted issuers, replay cache) and who the caller is."""
from .issuers import Issuer, IssuerConfigError, Tenant, load_issuers, sandbox_issuer
from .keys import JwksDocument, JwksFetch, KeyNotFound, KeyStore, TrustedKey, http_fetch_jwks
from .replay import MemoryReplayCache, PostgresReplayCache, RedisReplayCache, ReplayCache, ReplayCacheUnavailable
from .tokens import ANONYMOUS, Authenticator, AuthError, Principal

__all__ = ["ANONYMOUS", "AuthError", "Authenticator", "Issuer", "IssuerConfigError", "JwksDocument", "JwksFetch",
           "KeyNotFound",
           "KeyStore", "MemoryReplayCache", "PostgresReplayCache", "Principal", "RedisReplayCache", "ReplayCache",
           "ReplayCacheUnavailable", "Tenant", "TrustedKey", "http_fetch_jwks", "load_issuers", "sandbox_issuer"]
