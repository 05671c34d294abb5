//! samod's sync server: a repo with filesystem storage accepting automerge-repo peers over
//! websocket, announcing nothing (peers that sync a document get it), like automerge-repo's
//! sync server.
//!
//! `fieldsync-bench-samod-server <listen host:port> <data dir>`; prints `listening on <addr>`
//! when ready.

use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use samod::storage::TokioFilesystemStorage;
use samod::{AcceptorHandle, Repo, ShareConfig};

async fn websocket(State(acceptor): State<AcceptorHandle>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(64 << 20)
        .on_upgrade(move |socket| async move {
            if let Err(e) = acceptor.accept_axum(socket, None) {
                eprintln!("connection refused: {e:?}");
            }
        })
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, data_dir] = args.as_slice() else {
        eprintln!("usage: fieldsync-bench-samod-server <host:port> <data dir>");
        std::process::exit(2);
    };
    std::fs::create_dir_all(data_dir).expect("data dir");
    let repo = Repo::build_tokio()
        .with_storage(TokioFilesystemStorage::new(data_dir))
        .with_share_policy(ShareConfig::read_write().with_announce(false))
        .load()
        .await;
    let url = samod::Url::parse(&format!("ws://{listen}/")).expect("listen address");
    let acceptor = repo.make_acceptor(url).expect("acceptor");
    let app = Router::new()
        .route("/", get(websocket))
        .with_state(acceptor);
    let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
    println!("listening on {}", listener.local_addr().expect("address"));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            term.recv().await;
        })
        .await
        .expect("serve");
    repo.stop().await;
}
