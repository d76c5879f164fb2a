//! RedisStore against a real Redis.
//!
//! Most tests need Redis on 127.0.0.1:6379 and skip (with a printed message) when it is not
//! there. Each uses its own random key prefix and removes its keys. The dead-server test
//! needs nothing; the reconnect test needs `redis-server` on PATH and runs a private one.

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use livetemplate_runtime::store::{Backoff, RedisConnector, RedisStore, SessionStore, StoreError};
use redis::aio::MultiplexedConnection;

#[path = "support/private_redis.rs"]
mod private_redis;

use private_redis::{unused_port, PrivateRedis};

const SHARED_REDIS: &str = "redis://127.0.0.1:6379/";

/// A raw connection to the shared Redis, or `None` (after saying so) if it is not running.
async fn shared_redis(test: &str) -> Option<MultiplexedConnection> {
    let addr: SocketAddr = ([127, 0, 0, 1], 6379).into();
    if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
        println!("skipping {test}: no Redis on 127.0.0.1:6379");
        return None;
    }
    let client = redis::Client::open(SHARED_REDIS).ok()?;
    let connect = client.get_multiplexed_async_connection();
    let mut conn = match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(conn)) => conn,
        _ => {
            println!("skipping {test}: 127.0.0.1:6379 does not speak Redis");
            return None;
        }
    };
    let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
    if pong.is_err() {
        println!("skipping {test}: Redis on 127.0.0.1:6379 does not answer PING");
        return None;
    }
    Some(conn)
}

fn unique_prefix(test: &str) -> String {
    format!("livetemplate-test:{test}:{:016x}:", rand::random::<u64>())
}

fn store_with_prefix(prefix: &str, ttl: Duration) -> RedisStore {
    RedisStore::builder(RedisConnector::new(SHARED_REDIS).expect("valid URL"))
        .key_prefix(prefix)
        .ttl(ttl)
        .build()
        .expect("valid config")
}

/// Deletes every key under `prefix` (prefixes here contain no glob characters).
async fn cleanup(conn: &mut MultiplexedConnection, prefix: &str) {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(keys).query_async(conn).await;
    }
}

async fn pttl(conn: &mut MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(key)
        .query_async(conn)
        .await
        .expect("PTTL")
}

#[tokio::test]
async fn round_trip_delete_and_arc_dyn() -> Result<(), StoreError> {
    let Some(mut conn) = shared_redis("round_trip_delete_and_arc_dyn").await else {
        return Ok(());
    };
    let prefix = unique_prefix("round-trip");
    let store: Arc<dyn SessionStore> =
        Arc::new(store_with_prefix(&prefix, Duration::from_secs(60)));

    store.ping().await?;
    assert_eq!(store.get("g").await?, None);
    store.set("g", Bytes::from_static(b"{\"count\":1}")).await?;
    store.set("g", Bytes::from_static(b"{\"count\":2}")).await?;
    assert_eq!(
        store.get("g").await?.as_deref(),
        Some(&b"{\"count\":2}"[..])
    );
    assert!(store.touch("g").await?);

    store.delete("g").await?;
    assert_eq!(store.get("g").await?, None);
    assert!(!store.touch("g").await?);
    store.delete("g").await?; // deleting a missing record is fine
    let exists: i64 = redis::cmd("EXISTS")
        .arg(format!("{prefix}g"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(exists, 0);

    cleanup(&mut conn, &prefix).await;
    Ok(())
}

#[tokio::test]
async fn binary_values_come_back_byte_for_byte() -> Result<(), StoreError> {
    let Some(mut conn) = shared_redis("binary_values_come_back_byte_for_byte").await else {
        return Ok(());
    };
    let prefix = unique_prefix("binary");
    let store = store_with_prefix(&prefix, Duration::from_secs(60));
    let values = [
        Bytes::new(),
        Bytes::from_static(&[0xff, 0xfe, 0x00, 0xc3, 0x28, 0xa0, 0xa1, 0xed, 0xa0, 0x80]),
        Bytes::from((0..=255u8).collect::<Vec<_>>()),
        Bytes::from_static(b"\r\n$5\r\nhello\r\n*1\r\n"), // RESP framing inside the value
        Bytes::from("ünïcødé ✓ \u{0}".as_bytes().to_vec()),
        Bytes::from(
            (0..(1usize << 20))
                .map(|i| (i * 31 % 251) as u8)
                .collect::<Vec<_>>(),
        ),
    ];
    for (i, value) in values.iter().enumerate() {
        let group = format!("g{i}");
        store.set(&group, value.clone()).await?;
        assert_eq!(store.get(&group).await?.as_ref(), Some(value), "value {i}");
        let raw: Vec<u8> = redis::cmd("GET")
            .arg(store.key(&group))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(raw, value.as_ref(), "stored verbatim in Redis, value {i}");
    }
    cleanup(&mut conn, &prefix).await;
    Ok(())
}

#[tokio::test]
async fn ttl_is_set_on_write_and_refreshed_on_access() -> Result<(), StoreError> {
    let Some(mut conn) = shared_redis("ttl_is_set_on_write_and_refreshed_on_access").await else {
        return Ok(());
    };
    let prefix = unique_prefix("ttl");
    let store = store_with_prefix(&prefix, Duration::from_secs(600));
    let key = store.key("g");

    store.set("g", Bytes::from_static(b"v")).await?;
    let ttl = pttl(&mut conn, &key).await;
    assert!(ttl > 300_000 && ttl <= 600_000, "TTL after set: {ttl} ms");

    // Age the record by hand, then read it: the read restores the full TTL.
    let _: i64 = redis::cmd("PEXPIRE")
        .arg(&key)
        .arg(5_000)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pttl(&mut conn, &key).await <= 5_000);
    assert_eq!(store.get("g").await?.as_deref(), Some(&b"v"[..]));
    let ttl = pttl(&mut conn, &key).await;
    assert!(ttl > 300_000, "TTL after get: {ttl} ms");

    // Same for touch.
    let _: i64 = redis::cmd("PEXPIRE")
        .arg(&key)
        .arg(5_000)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(store.touch("g").await?);
    let ttl = pttl(&mut conn, &key).await;
    assert!(ttl > 300_000, "TTL after touch: {ttl} ms");

    // A read of a missing group creates nothing.
    assert_eq!(store.get("missing").await?, None);
    assert_eq!(pttl(&mut conn, &store.key("missing")).await, -2);

    cleanup(&mut conn, &prefix).await;
    Ok(())
}

#[tokio::test]
async fn records_expire_in_redis() -> Result<(), StoreError> {
    let Some(mut conn) = shared_redis("records_expire_in_redis").await else {
        return Ok(());
    };
    let prefix = unique_prefix("expire");
    let store = store_with_prefix(&prefix, Duration::from_millis(50));
    store.set("g", Bytes::from_static(b"v")).await?;
    for _ in 0..500 {
        if store.get("g").await?.is_none() {
            cleanup(&mut conn, &prefix).await;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("record with a 50 ms TTL never expired");
}

#[tokio::test]
async fn prefix_is_respected_and_shared_connector_works() -> Result<(), StoreError> {
    let Some(mut conn) = shared_redis("prefix_is_respected_and_shared_connector_works").await
    else {
        return Ok(());
    };
    let base = unique_prefix("prefix");
    let (prefix_a, prefix_b) = (format!("{base}a:"), format!("{base}b:"));
    let connector = RedisConnector::new(SHARED_REDIS)?;
    let a = RedisStore::builder(connector.clone())
        .key_prefix(&prefix_a)
        .ttl(Duration::from_secs(60))
        .build()?;
    let b = RedisStore::builder(connector.clone())
        .key_prefix(&prefix_b)
        .ttl(Duration::from_secs(60))
        .build()?;

    a.set("g1", Bytes::from_static(b"from a")).await?;
    a.set("g2", Bytes::from_static(b"also a")).await?;
    b.set("g1", Bytes::from_static(b"from b")).await?;

    let raw: Vec<u8> = redis::cmd("GET")
        .arg(format!("{prefix_a}g1"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(raw, b"from a");
    assert_eq!(a.get("g1").await?.as_deref(), Some(&b"from a"[..]));
    assert_eq!(b.get("g1").await?.as_deref(), Some(&b"from b"[..]));
    assert_eq!(b.get("g2").await?, None);
    assert_eq!(a.list().await?, ["g1", "g2"]);
    assert_eq!(b.list().await?, ["g1"]);

    // The connector's connection is usable by other Redis code.
    let mut shared = connector.connection().await.expect("shared connection");
    let exists: i64 = redis::cmd("EXISTS")
        .arg(b.key("g1"))
        .query_async(&mut shared)
        .await
        .unwrap();
    assert_eq!(exists, 1);

    cleanup(&mut conn, &base).await;
    Ok(())
}

#[tokio::test]
async fn list_does_not_treat_the_prefix_as_a_pattern() -> Result<(), StoreError> {
    let Some(mut conn) = shared_redis("list_does_not_treat_the_prefix_as_a_pattern").await else {
        return Ok(());
    };
    let base = unique_prefix("glob");
    let globby = RedisStore::builder(RedisConnector::new(SHARED_REDIS)?)
        .key_prefix(format!("{base}s?*["))
        .ttl(Duration::from_secs(60))
        .build()?;
    // A key the unescaped pattern `{base}s?*[*` would also match.
    let _: () = redis::cmd("SET")
        .arg(format!("{base}sX[other"))
        .arg("x")
        .arg("EX")
        .arg(60)
        .query_async(&mut conn)
        .await
        .unwrap();
    globby.set("mine", Bytes::from_static(b"v")).await?;
    assert_eq!(globby.list().await?, ["mine"]);

    let _: i64 = redis::cmd("DEL")
        .arg(globby.key("mine"))
        .arg(format!("{base}sX[other"))
        .query_async(&mut conn)
        .await
        .unwrap();
    Ok(())
}

#[tokio::test]
async fn dead_redis_is_an_error_not_a_panic() {
    let port = unused_port();
    let backoff = Backoff::new(2, Duration::from_millis(10));
    let store =
        RedisStore::builder(RedisConnector::new(&format!("redis://127.0.0.1:{port}/")).unwrap())
            .backoff(backoff)
            .build()
            .unwrap();

    let ops = async {
        let get = store.get("g").await;
        let set = store.set("g", Bytes::from_static(b"v")).await;
        let delete = store.delete("g").await;
        let touch = store.touch("g").await;
        let list = store.list().await;
        let ping = store.ping().await;
        (get, set, delete, touch, list, ping)
    };
    // A generous bound that only catches a hang; the retry budget is 20 ms of waiting.
    let (get, set, delete, touch, list, ping) = tokio::time::timeout(Duration::from_secs(60), ops)
        .await
        .expect("operations did not hang");

    let err = get.unwrap_err();
    match &err {
        StoreError::Unavailable { op, attempts, .. } => {
            assert_eq!(*op, "get");
            assert_eq!(*attempts, 3);
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(err.is_unavailable());
    assert!(
        err.to_string()
            .starts_with("session store unavailable: `get` failed after 3 attempt(s)"),
        "{err}"
    );
    assert!(set.unwrap_err().is_unavailable());
    assert!(delete.unwrap_err().is_unavailable());
    assert!(touch.unwrap_err().is_unavailable());
    assert!(list.unwrap_err().is_unavailable());
    assert!(ping.unwrap_err().is_unavailable());
}

#[tokio::test]
async fn store_reconnects_after_redis_restarts() -> Result<(), StoreError> {
    let port = unused_port();
    let Some(mut server) = PrivateRedis::start(port) else {
        println!("skipping store_reconnects_after_redis_restarts: redis-server is not on PATH");
        return Ok(());
    };
    server.ready().await;

    let store = RedisStore::builder(RedisConnector::new(&format!("redis://127.0.0.1:{port}/"))?)
        .backoff(Backoff::new(5, Duration::from_millis(50)))
        .build()?;
    store.set("g", Bytes::from_static(b"before")).await?;
    assert_eq!(store.get("g").await?.as_deref(), Some(&b"before"[..]));

    server.kill();
    let err = store.get("g").await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(store
        .set("g", Bytes::from_static(b"lost"))
        .await
        .unwrap_err()
        .is_unavailable());

    let server = PrivateRedis::start(port).expect("redis-server started before");
    server.ready().await;

    // Same store, no rebuild: the next operation reconnects.
    store.set("g", Bytes::from_static(b"after")).await?;
    assert_eq!(store.get("g").await?.as_deref(), Some(&b"after"[..]));
    store.delete("g").await?;
    drop(server);
    Ok(())
}
