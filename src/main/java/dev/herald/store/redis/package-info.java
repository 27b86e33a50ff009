/** The event log on Redis Streams ({@link dev.herald.store.redis.RedisEventLog}), for several Herald nodes. */
package dev.herald.store.redis;
