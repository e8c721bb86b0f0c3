//! Running a fake: an axum router on `127.0.0.1:0` that can be taken down
//! (connections refused) and brought back on the same port.

use std::net::SocketAddr;
use std::sync::Mutex;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A fake HTTP server bound to a loopback port.
pub struct FakeServer {
    addr: SocketAddr,
    router: Router,
    running: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

impl FakeServer {
    /// Binds `127.0.0.1:0` and serves `router`.
    pub async fn start(router: Router) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = Self {
            addr,
            router,
            running: Mutex::new(None),
        };
        server.serve(listener);
        Ok(server)
    }

    fn serve(&self, listener: TcpListener) {
        let (stop, stopped) = oneshot::channel::<()>();
        let router = self.router.clone();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::warn!(error = %e, "fake server stopped with an error");
            }
        });
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = Some((stop, task));
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops listening: new connections are refused until [`up`](Self::up).
    pub async fn down(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some((stop, task)) = running {
            let _ = stop.send(());
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn up(&self) -> std::io::Result<()> {
        if self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        {
            return Ok(());
        }
        let listener = TcpListener::bind(self.addr).await?;
        self.serve(listener);
        Ok(())
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some((stop, task)) = self.running.get_mut().ok().and_then(Option::take) {
            let _ = stop.send(());
            task.abort();
        }
    }
}
