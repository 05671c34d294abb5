//! The simulated schedules' server: the real application (router, stores, background tasks)
//! on a loopback port, in process on a runtime of its own, so that a schedule can stop it (a
//! restart drops the runtime and every task on it, like a crash of the process) and start it
//! again on the same data, or on a restored backup.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use fieldsync_e2e::backup_data_dir;
use fieldsync_server::config::{Config, Secret};
use fieldsync_server::startup::Application;
use tempfile::TempDir;
use tokio::sync::oneshot;

/// One running instance: its URL and the means to stop it.
struct Instance {
    url: String,
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

/// A server whose process can "die" and come back on the same data, or on an older copy.
pub struct SimServer {
    data_dir: TempDir,
    /// `None`: SQLite in the data directory; else a PostgreSQL database URL.
    database_url: Option<String>,
    instance: Option<Instance>,
}

impl SimServer {
    pub fn start(database_url: Option<String>) -> SimServer {
        let mut server = SimServer {
            data_dir: tempfile::tempdir().expect("temp dir"),
            database_url,
            instance: None,
        };
        server.launch();
        server
    }

    pub fn url(&self) -> &str {
        &self.instance.as_ref().expect("the server runs").url
    }

    /// The SQLite database file (for the checks that count rows); `None` on PostgreSQL.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.database_url
            .is_none()
            .then(|| self.data_dir.path().join("fieldsync.db"))
    }

    /// Whether [`SimServer::restore`] can take a copy of this server's data (SQLite only: the
    /// copy of a PostgreSQL database is the operator's tooling, not the test's).
    pub fn can_back_up(&self) -> bool {
        self.database_url.is_none()
    }

    /// A consistent copy of the data directory, as an operator's backup.
    pub fn backup(&self) -> TempDir {
        backup_data_dir(self.data_dir.path())
    }

    /// Stops the server (in-flight requests are dropped) and starts it again on its data, on a
    /// new port. Returns the new URL.
    pub fn restart(&mut self) -> String {
        self.stop();
        self.launch();
        self.url().to_string()
    }

    /// Stops the server and starts it on `backup` instead of its data. Returns the new URL.
    pub fn restore(&mut self, backup: TempDir) -> String {
        self.stop();
        self.data_dir = backup;
        self.launch();
        self.url().to_string()
    }

    fn stop(&mut self) {
        if let Some(instance) = self.instance.take() {
            let _ = instance.stop.send(());
            instance.thread.join().expect("the server thread ends");
        }
    }

    fn launch(&mut self) {
        let mut config = Config::for_tests(self.data_dir.path());
        config.demo = true;
        config.database_url = self.database_url.as_deref().map(Secret::new);
        // Photos above 8 KiB go in parts of 4 KiB; no background clean-up during a schedule.
        config.photos.multipart_threshold_bytes = 8 * 1024;
        config.photos.part_bytes = 4 * 1024;
        config.photos.gc_interval_secs = 0;
        let (started_tx, started_rx) = mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sim-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                rt.block_on(async move {
                    let app = match Application::build(config).await {
                        Ok(app) => app,
                        Err(e) => {
                            let _ = started_tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                    let _ = started_tx.send(Ok(app.port()));
                    tokio::select! {
                        served = app.run_until_stopped() => served.expect("the server serves"),
                        _ = stopped => {}
                    }
                });
                // Every task still running (connections, background jobs) is dropped here.
                rt.shutdown_timeout(Duration::from_secs(10));
            })
            .expect("spawn the server thread");
        let port = started_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server starts within 60 s")
            .unwrap_or_else(|e| panic!("the server failed to start: {e}"));
        self.instance = Some(Instance {
            url: format!("http://127.0.0.1:{port}"),
            stop,
            thread,
        });
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.stop();
    }
}
