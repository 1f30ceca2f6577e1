"""SMART on FHIR EHR launch of the timeline page: discovery, authorization code with PKCE, the token
exchange, and the server-side sessions that alone hold the access token (the browser gets an opaque id)."""
from .errors import LaunchError
from .launch import SmartContext, SmartLauncher
from .oauth_http import OAuthHttp, RequestsOAuthHttp
from .sessions import MemorySessionStore, RedisSessionStore, SessionStore

__all__ = ["LaunchError", "MemorySessionStore", "OAuthHttp", "RedisSessionStore", "RequestsOAuthHttp",
           "SessionStore", "SmartContext", "SmartLauncher"]
