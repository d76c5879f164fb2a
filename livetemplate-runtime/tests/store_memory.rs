//! MemoryStore behaviour through the public API: the bytes contract, idle expiry, bounded
//! memory under churn, and the sweeper's lifetime.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use livetemplate_runtime::store::{MemoryStore, SessionStore, StoreError};

fn short_lived(ttl_ms: u64, sweep_ms: u64) -> MemoryStore {
    MemoryStore::builder()
        .ttl(Duration::from_millis(ttl_ms))
        .sweep_interval(Duration::from_millis(sweep_ms))
        .build()
        .expect("valid config")
}

/// Byte strings a store must hand back untouched.
fn awkward_values() -> Vec<Bytes> {
    vec![
        Bytes::new(),
        Bytes::from_static(b"{\"count\":3,\"notes\":null}"),
        Bytes::from_static(&[0xff, 0xfe, 0x00, 0xc3, 0x28, 0xa0, 0xa1, 0xed, 0xa0, 0x80]),
        Bytes::from((0..=255u8).collect::<Vec<_>>()),
        Bytes::from("ünïcødé ✓ \u{0}".as_bytes().to_vec()),
        Bytes::from(vec![0x5a; 1 << 20]),
    ]
}

#[tokio::test]
async fn get_returns_exactly_the_bytes_given_to_set() -> Result<(), StoreError> {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    for (i, value) in awkward_values().into_iter().enumerate() {
        let group = format!("group-{i}");
        store.set(&group, value.clone()).await?;
        assert_eq!(store.get(&group).await?, Some(value), "value {i}");
    }
    assert_eq!(store.get("never-written").await?, None);
    Ok(())
}

#[tokio::test]
async fn last_writer_wins_and_delete_removes() -> Result<(), StoreError> {
    let store = MemoryStore::new();
    store.set("g", Bytes::from_static(b"first")).await?;
    store.set("g", Bytes::from_static(b"second")).await?;
    assert_eq!(store.get("g").await?.as_deref(), Some(&b"second"[..]));
    assert_eq!(store.len(), 1);
    store.delete("g").await?;
    assert_eq!(store.get("g").await?, None);
    assert!(!store.touch("g").await?);
    store.delete("g").await?; // deleting a missing record is fine
    assert!(store.is_empty());
    Ok(())
}

#[tokio::test]
async fn set_now_writes_at_once_as_set_does() -> Result<(), StoreError> {
    let store = MemoryStore::builder().max_entries(2).build()?;
    let shared: Arc<dyn SessionStore> = Arc::new(store.clone());
    for (group, value) in [("a", "1"), ("b", "2"), ("a", "3")] {
        let written = shared.set_now(group, &Bytes::from(value));
        assert!(matches!(written, Some(Ok(()))), "{group}");
    }
    assert_eq!(store.get("a").await?.as_deref(), Some(&b"3"[..]));
    // Writing `a` again made it the most recent: a new group evicts `b`.
    shared.set_now("c", &Bytes::from_static(b"4"));
    assert_eq!(store.get("b").await?, None);
    assert_eq!(store.get("a").await?.as_deref(), Some(&b"3"[..]));
    assert_eq!(store.len(), 2);
    Ok(())
}

#[tokio::test]
async fn list_and_touch_see_live_records() -> Result<(), StoreError> {
    let store = MemoryStore::new();
    store.set("a", Bytes::from_static(b"1")).await?;
    store.set("b", Bytes::from_static(b"2")).await?;
    let mut groups = store.list().await?;
    groups.sort();
    assert_eq!(groups, ["a", "b"]);
    assert!(store.touch("a").await?);
    assert!(!store.touch("c").await?);
    store.ping().await?;
    Ok(())
}

#[tokio::test]
async fn clones_share_records() -> Result<(), StoreError> {
    let store = MemoryStore::new();
    let other = store.clone();
    store.set("g", Bytes::from_static(b"v")).await?;
    assert_eq!(other.get("g").await?.as_deref(), Some(&b"v"[..]));
    Ok(())
}

#[test]
fn defaults_are_a_day_and_an_hour() {
    let store = MemoryStore::default();
    assert_eq!(store.ttl(), Duration::from_secs(24 * 3600));
    assert_eq!(
        MemoryStore::DEFAULT_SWEEP_INTERVAL,
        Duration::from_secs(3600)
    );
    assert!(format!("{store:?}").contains("MemoryStore"));
}

#[test]
fn bad_configuration_is_an_error() {
    let err = MemoryStore::builder()
        .ttl(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidConfig(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid session store configuration: memory store TTL must be greater than zero"
    );
}

#[tokio::test(start_paused = true)]
async fn abandoned_groups_are_swept_and_memory_falls_back() -> Result<(), StoreError> {
    const GROUPS: usize = 100_000;
    let store = short_lived(50, 10);
    for i in 0..GROUPS {
        store
            .set(&format!("abandoned-{i}"), Bytes::from_static(b"{\"n\":1}"))
            .await?;
    }
    // The clock is paused: no time passed while writing, so nothing expired yet.
    assert_eq!(store.len(), GROUPS);

    // One group stays in use the whole time.
    store.set("active", Bytes::from_static(b"keep")).await?;
    for _ in 0..1_000 {
        tokio::time::sleep(Duration::from_millis(10)).await; // lets the sweeper run
        assert!(
            store.touch("active").await?,
            "an active group never expires"
        );
        if store.len() == 1 {
            break;
        }
    }
    assert_eq!(store.len(), 1, "abandoned groups were not swept");
    assert_eq!(store.get("active").await?.as_deref(), Some(&b"keep"[..]));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn churn_with_an_entry_bound_never_exceeds_it() -> Result<(), StoreError> {
    let store = MemoryStore::builder().max_entries(1_000).build()?;
    for i in 0..100_000 {
        store
            .set(&format!("g-{i}"), Bytes::from_static(b"x"))
            .await?;
        assert!(store.len() <= 1_000);
    }
    assert_eq!(store.len(), 1_000);
    assert_eq!(store.get("g-99999").await?.as_deref(), Some(&b"x"[..]));
    assert_eq!(
        store.get("g-0").await?,
        None,
        "the oldest groups were evicted"
    );
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn sweeper_task_ends_when_the_store_is_dropped() -> Result<(), StoreError> {
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();

    let store = short_lived(1_000, 5);
    let clone = store.clone();
    store.set("g", Bytes::from_static(b"v")).await?;
    assert_eq!(
        metrics.num_alive_tasks(),
        before + 1,
        "one sweeper per store"
    );
    clone.set("h", Bytes::from_static(b"v")).await?;
    assert_eq!(
        metrics.num_alive_tasks(),
        before + 1,
        "clones share the sweeper"
    );

    drop(store);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        metrics.num_alive_tasks(),
        before + 1,
        "a live clone keeps the sweeper"
    );

    drop(clone);
    for _ in 0..10_000 {
        if metrics.num_alive_tasks() == before {
            return Ok(());
        }
        tokio::task::yield_now().await;
    }
    panic!("sweeper still alive after the last clone was dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tasks_keep_their_own_records() -> Result<(), StoreError> {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for i in 0..500 {
                let group = format!("t{t}-g{}", i % 50);
                let value = Bytes::from(format!("{t}:{i}"));
                store.set(&group, value.clone()).await?;
                assert_eq!(store.get(&group).await?, Some(value));
            }
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        task.await.expect("task did not panic")?;
    }
    assert_eq!(store.list().await?.len(), 8 * 50);
    Ok(())
}
