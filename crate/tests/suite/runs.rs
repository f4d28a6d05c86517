//! Signature runs on every store (docs/chain-format.md, "Signature runs"):
//! a batch is stored with one signature, verifies, and a stored chain left
//! ending without a signature is refused by verify and by the next append.

use petrichain::store::Action;

use super::{shop, with_stream, Backend, TS};

pub async fn a_batch_is_one_signature_run_and_an_unsigned_head_is_refused<B: Backend>(b: &B) {
    let ledger = b.open("runs").await;
    with_stream(&ledger, "s", &shop(1000)).await;
    let batch: Vec<Action> = (0..100).map(|_| Action::new("take")).collect();
    let events = ledger.fire_batch("s", &batch, TS).await.unwrap();
    let signed = |events: &[petrichain::chain::Event]| -> Vec<u64> {
        events
            .iter()
            .filter(|e| !e.sig.is_empty())
            .map(|e| e.seq)
            .collect()
    };
    assert_eq!(signed(&events), vec![100]);
    // Stored as returned: one signature for the 100 events.
    let again = b.open("runs").await;
    assert_eq!(signed(&again.all_events("s").await.unwrap()), vec![100]);
    assert_eq!(again.verify(Some("s")).await.unwrap()[0].events, 100);
    // The run's closing signature removed by hand: the chain now ends in
    // 100 unsigned events.
    assert!(
        b.tamper("runs", "s", 100, &|v| {
            v.as_object_mut().unwrap().remove("sig");
        })
        .await
    );
    let reader = b.open("runs").await;
    let err = reader.verify(Some("s")).await.unwrap_err();
    assert_eq!((err.code(), err.seq()), ("BAD_SIGNATURE", Some(1)), "{err}");
    assert!(err.to_string().contains("inside a signature run"), "{err}");
    // And no append builds on it (its signature would cover them).
    let err = reader
        .fire("s", &Action::new("take"), TS)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CORRUPT_RECORD", "{err}");
    assert_eq!(reader.stream("s").await.unwrap().seq, 100);
}
