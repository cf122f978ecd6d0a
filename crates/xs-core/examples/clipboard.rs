//! A tiny clipboard on xs-core, the shape of the reference embedder: clips
//! are appended with their text in the CAS, and the "UI" follows the stream.
//!
//!     cargo run -p xs-core --example clipboard -- [store-dir]
//!
//! The code is what a cross-stream 0.13 embedder already writes: only the
//! crate name changes (and one call sets up logging).

use xs_core::{
    FollowOption, Frame, ReadOptions, Store, TTL,
    trace::{self, Trace},
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The app's logs (and xs-core's) to stderr, filtered by XS_LOG or RUST_LOG;
    // a GUI app would pass `Trace::file(...)`.
    trace::init(Trace::stderr())?;
    let scratch = tempfile::tempdir()?;
    let dir = std::env::args().nth(1).map_or_else(|| scratch.path().to_path_buf(), Into::into);
    let store = Store::new(&dir)?;

    // The UI subscribes first: history, then `xs.threshold`, then live clips.
    let options = ReadOptions::builder().follow(FollowOption::On).topic("clip.*".to_string()).build();
    let mut clips = store.read(options).await;

    for (text, app) in [("hello", "terminal"), ("https://example.com", "browser"), ("hello", "editor")] {
        let hash = store.cas_insert(text).await?;
        let meta = serde_json::json!({ "app": app });
        store.append(Frame::builder("clip.add").hash(hash).meta(meta).ttl(TTL::Last(100)).build())?;
    }

    let mut shown = 0;
    while let Some(frame) = clips.recv().await {
        if frame.topic == "xs.threshold" {
            println!("-- live --");
            continue;
        }
        let text = match &frame.hash {
            Some(hash) => String::from_utf8_lossy(&store.cas_read(hash)?).into_owned(),
            None => String::new(),
        };
        println!("{} {} {:?} from {}", frame.id, frame.topic, text, frame.meta.unwrap_or_default()["app"]);
        shown += 1;
        if shown == 3 {
            break;
        }
    }
    println!("store: {}", dir.display());
    Ok(())
}
