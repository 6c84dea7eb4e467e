"""Django's Redis cache backend, keeping its redis-py clients instead of building one for every call.

`django.core.cache.backends.redis.RedisCacheClient.get_client` constructs a new `redis.Redis` around the same
connection pool for every get, set or delete: the throttle's two calls per API request each paid for a client's
construction (most of the throttles' CPU in the API POST's profile, docs/benchmarks.md). A `redis.Redis` is
thread-safe and holds nothing but its pool and options, so one per pool serves every call alike; the pools, the
servers chosen and the serialisation stay Django's. config/settings.py puts this backend in place of Django's when
CACHE_URL names Redis.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}  # id(pool) → its client; the pools live as long as this object

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
