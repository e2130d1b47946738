"""The real client: nothing in this package imports `httpdeck.testing`."""

from httpdeck.client._base_url import BaseURLHTTPClient
from httpdeck.client._build import BasicAuth, BearerAuth, RequestOptions
from httpdeck.client._circuit import (
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitBreakerRegistry,
    CircuitState,
)
from httpdeck.client._client import HTTPClient, ResilienceStrategy
from httpdeck.client._config import ConnectionPoolConfig, HTTPClientConfig, TimeoutConfig
from httpdeck.client._events import (
    CircuitStateChanged,
    EventBus,
    HTTPEvent,
    RequestCompleted,
    RequestDispatched,
    RequestFailed,
    RequestTimedOut,
    ResponseReceived,
    RetryExhausted,
    RetryScheduled,
    Subscription,
)
from httpdeck.client._eventsource import EventSource
from httpdeck.client._exceptions import (
    HTTPBulkheadFullError,
    HTTPCircuitOpenError,
    HTTPClientClosedError,
    HTTPClientError,
    HTTPConfigError,
    HTTPConnectionError,
    HTTPInterceptorError,
    HTTPPoolTimeoutError,
    HTTPProtocolError,
    HTTPRedirectError,
    HTTPResponseTooLargeError,
    HTTPRetryExhaustedError,
    HTTPStatusError,
    HTTPTimeoutError,
    HTTPTransportError,
    HTTPValidationError,
)
from httpdeck.client._helpers import (
    build_url,
    extract_json_type,
    format_timeout,
    merge_headers,
    parse_headers,
    parse_url_parts,
    validate_host,
    validate_port,
    validate_positive_int,
    validate_timeout,
    validate_url,
)
from httpdeck.client._interceptors import (
    AroundInterceptor,
    CallNext,
    Interceptor,
    InterceptorChain,
    RequestInterceptor,
    ResponseInterceptor,
)
from httpdeck.client._metrics import (
    InMemoryMetrics,
    MetricsRecorder,
)
from httpdeck.client._models import (
    HTTPDecodeError,
    HttpResponse,
    Request,
    RequestContext,
    ResponseContext,
    ResponseNotReadError,
)
from httpdeck.client._module import (
    ContainerProtocol,
    HealthCheckResult,
    HTTPModule,
    HTTPProvider,
    SimpleContainer,
)
from httpdeck.client._protocol import HTTPClientProtocol
from httpdeck.client._resilience import (
    Bulkhead,
    ResiliencePipeline,
    Timeout,
)
from httpdeck.client._result import Err, Ok, Result, UnwrapError
from httpdeck.client._retry import RetryConfig, RetryPolicy
from httpdeck.client._retry_support import RetryBudget, is_testing, set_testing
from httpdeck.client._safety import HTTPUnsafeURLError, URLSafety
from httpdeck.client._sse import ServerSentEvent
from httpdeck.client._streaming import ByteStream, ResponseStream, StreamBody, StreamConsumedError
from httpdeck.client._transports._connector import Resolver
from httpdeck.client._transports._pool import ConnectionPool
from httpdeck.client._transports.aiohttp import AiohttpTransport
from httpdeck.client._transports.base import Transport
from httpdeck.client._transports.httpx import HttpxTransport

__all__ = [
    "AiohttpTransport",
    "AroundInterceptor",
    "BaseURLHTTPClient",
    "BasicAuth",
    "BearerAuth",
    "Bulkhead",
    "ByteStream",
    "CallNext",
    "CircuitBreaker",
    "CircuitBreakerConfig",
    "CircuitBreakerRegistry",
    "CircuitState",
    "CircuitStateChanged",
    "ConnectionPool",
    "ConnectionPoolConfig",
    "ContainerProtocol",
    "Err",
    "EventBus",
    "EventSource",
    "HTTPBulkheadFullError",
    "HTTPCircuitOpenError",
    "HTTPClient",
    "HTTPClientClosedError",
    "HTTPClientConfig",
    "HTTPClientError",
    "HTTPClientProtocol",
    "HTTPConfigError",
    "HTTPConnectionError",
    "HTTPDecodeError",
    "HTTPEvent",
    "HTTPInterceptorError",
    "HTTPModule",
    "HTTPPoolTimeoutError",
    "HTTPProtocolError",
    "HTTPProvider",
    "HTTPRedirectError",
    "HTTPResponseTooLargeError",
    "HTTPRetryExhaustedError",
    "HTTPStatusError",
    "HTTPTimeoutError",
    "HTTPTransportError",
    "HTTPUnsafeURLError",
    "HTTPValidationError",
    "HealthCheckResult",
    "HttpResponse",
    "HttpxTransport",
    "InMemoryMetrics",
    "Interceptor",
    "InterceptorChain",
    "MetricsRecorder",
    "Ok",
    "Request",
    "RequestCompleted",
    "RequestContext",
    "RequestDispatched",
    "RequestFailed",
    "RequestInterceptor",
    "RequestOptions",
    "RequestTimedOut",
    "ResiliencePipeline",
    "ResilienceStrategy",
    "Resolver",
    "ResponseContext",
    "ResponseInterceptor",
    "ResponseNotReadError",
    "ResponseReceived",
    "ResponseStream",
    "Result",
    "RetryBudget",
    "RetryConfig",
    "RetryExhausted",
    "RetryPolicy",
    "RetryScheduled",
    "ServerSentEvent",
    "SimpleContainer",
    "StreamBody",
    "StreamConsumedError",
    "Subscription",
    "Timeout",
    "TimeoutConfig",
    "Transport",
    "URLSafety",
    "UnwrapError",
    "build_url",
    "extract_json_type",
    "format_timeout",
    "is_testing",
    "merge_headers",
    "parse_headers",
    "parse_url_parts",
    "set_testing",
    "validate_host",
    "validate_port",
    "validate_positive_int",
    "validate_timeout",
    "validate_url",
]


def _publish() -> None:
    # Tracebacks, reprs and pickles name the public module (`httpdeck.HTTPStatusError`,
    # not `httpdeck.client._exceptions.HTTPStatusError`), as httpx does.
    import inspect

    for name in __all__:
        value = globals()[name]
        # Classes only: doctest and inspect find a function's examples through it.
        if inspect.isclass(value):
            value.__module__ = "httpdeck"


_publish()
del _publish
