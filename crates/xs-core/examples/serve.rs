//! An owner in the foreground: open a store and serve it on `<store>/sock`
//! until Ctrl-C. The reference for embedders: one call opens the store, one
//! serves it and runs its processor (the store's handlers) alongside.
//!
//!     cargo run -p xs-core --example serve -- <store-dir>
//!     curl --unix-socket <store-dir>/sock 'http://localhost/?follow'
//!
//! Shutdown is graceful: the socket goes away, follows end (their clients
//! resume with the next owner), in-flight appends finish, handlers commit
//! what they finished and record `.stopped`, the lock is freed.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    xs_core::trace::init(xs_core::trace::Trace::stderr())?; // XS_LOG / RUST_LOG filter it
    let dir = std::env::args().nth(1).ok_or("usage: serve <store-dir>")?;
    let store = xs_core::Store::new(&dir)?;
    tracing::info!("serving {dir}/sock until Ctrl-C");
    xs_core::server::serve(store, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
