//! The mock daemon: the generated `Server` trait implemented over block
//! nodes and jobs kept in memory. A job's events go out through the
//! command's session while it runs, and through the server as the job
//! runs on.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use qapi_types::serde_json::{self, json, Value};
use qapi_types::server::{QmpServer, ServerConfig, Session};
use qapi_types::{Empty, QmpError};
use tokio::sync::mpsc;

/// The storage daemon's bindings, with their server side.
#[allow(clippy::all, dead_code)]
pub mod storage_daemon {
    include!(concat!(env!("OUT_DIR"), "/storage_daemon.rs"));
}

use storage_daemon as sd;

/// How long each step of a job takes.
const JOB_STEP: Duration = Duration::from_millis(5);

/// A block node: what `blockdev-add` was given.
struct Node {
    driver: String,
    size: u64,
}

/// A job: its status.
struct Job {
    status: sd::JobStatus,
}

/// The daemon's state, shared by the commands and the jobs' tasks.
#[derive(Clone)]
pub struct Daemon {
    state: Arc<Mutex<State>>,
    /// Events, sent by the server (see [`serve`]).
    events: mpsc::UnboundedSender<sd::events::JobStatusChange>,
}

#[derive(Default)]
struct State {
    nodes: BTreeMap<String, Node>,
    jobs: BTreeMap<String, Job>,
}

impl Daemon {
    /// A daemon without nodes or jobs, whose events go to `events`.
    pub fn new(events: mpsc::UnboundedSender<sd::events::JobStatusChange>) -> Self {
        Self {
            state: Arc::default(),
            events,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sets job `id`'s status: the `JOB_STATUS_CHANGE` that says so.
    fn set_status(&self, id: &str, status: sd::JobStatus) -> sd::events::JobStatusChange {
        if let Some(job) = self.state().jobs.get_mut(id) {
            job.status = status.clone();
        }
        sd::events::JobStatusChange::new(id, status)
    }

    /// Sets job `id`'s status, and the server says so to every client.
    fn announce_status(&self, id: &str, status: sd::JobStatus) {
        let change = self.set_status(id, status);
        // Gone only once the server stops.
        let _ = self.events.send(change);
    }
}

/// A value of a type from its JSON, as QEMU would send it.
fn typed<T: qapi_types::serde::de::DeserializeOwned>(value: Value) -> Result<T, QmpError> {
    serde_json::from_value(value).map_err(|error| QmpError::generic(error.to_string()))
}

impl sd::server::Server for Daemon {
    async fn blockdev_add(
        &self,
        arguments: sd::commands::BlockdevAdd,
        _session: &Session,
    ) -> Result<Empty, QmpError> {
        let options = serde_json::to_value(&arguments.0)
            .map_err(|error| QmpError::generic(error.to_string()))?;
        let Some(name) = options["node-name"].as_str() else {
            return Err(QmpError::generic(
                "'node-name' must be specified for the root node",
            ));
        };
        let mut state = self.state();
        if state.nodes.contains_key(name) {
            return Err(QmpError::generic(format!(
                "Duplicate nodes with node-name='{name}'"
            )));
        }
        let node = Node {
            driver: options["driver"].as_str().unwrap_or_default().to_string(),
            size: options["size"].as_u64().unwrap_or(0),
        };
        state.nodes.insert(name.to_string(), node);
        Ok(Empty {})
    }

    async fn blockdev_del(
        &self,
        arguments: sd::commands::BlockdevDel,
        _session: &Session,
    ) -> Result<Empty, QmpError> {
        match self.state().nodes.remove(&arguments.node_name) {
            Some(_) => Ok(Empty {}),
            None => Err(QmpError::generic(format!(
                "Failed to find node with node-name='{}'",
                arguments.node_name
            ))),
        }
    }

    async fn query_named_block_nodes(
        &self,
        _arguments: sd::commands::QueryNamedBlockNodes,
        _session: &Session,
    ) -> Result<Vec<sd::BlockDeviceInfo>, QmpError> {
        let state = self.state();
        state
            .nodes
            .iter()
            .map(|(name, node)| {
                let file = format!(
                    "json:{{\"driver\": \"{}\", \"size\": {}}}",
                    node.driver, node.size
                );
                typed(json!({
                    "file": file,
                    "node-name": name,
                    "ro": false,
                    "drv": node.driver,
                    "encrypted": false,
                    "detect_zeroes": "off",
                    "bps": 0, "bps_rd": 0, "bps_wr": 0,
                    "iops": 0, "iops_rd": 0, "iops_wr": 0,
                    "write_threshold": 0,
                    "backing_file_depth": 0,
                    "active": true,
                    "image": {
                        "filename": file,
                        "format": node.driver,
                        "virtual-size": node.size,
                        "actual-size": 0,
                    },
                    "cache": {"writeback": true, "direct": false, "no-flush": false},
                }))
            })
            .collect()
    }

    async fn blockdev_create(
        &self,
        arguments: sd::commands::BlockdevCreate,
        session: &Session,
    ) -> Result<Empty, QmpError> {
        let id = arguments.job_id;
        {
            let mut state = self.state();
            if state.jobs.contains_key(&id) {
                return Err(QmpError::generic(format!("Job ID '{id}' already in use")));
            }
            state.jobs.insert(
                id.clone(),
                Job {
                    status: sd::JobStatus::Created,
                },
            );
        }
        // As QEMU does, before the reply.
        for status in [sd::JobStatus::Created, sd::JobStatus::Running] {
            let change = self.set_status(&id, status);
            session
                .emit(&change)
                .map_err(|error| QmpError::generic(error.to_string()))?;
        }
        // The job runs on; it concludes and waits to be dismissed.
        let daemon = self.clone();
        tokio::spawn(async move {
            for status in [
                sd::JobStatus::Waiting,
                sd::JobStatus::Pending,
                sd::JobStatus::Concluded,
            ] {
                tokio::time::sleep(JOB_STEP).await;
                daemon.announce_status(&id, status);
            }
        });
        Ok(Empty {})
    }

    async fn query_jobs(
        &self,
        _arguments: sd::commands::QueryJobs,
        _session: &Session,
    ) -> Result<Vec<sd::JobInfo>, QmpError> {
        let state = self.state();
        state
            .jobs
            .iter()
            .map(|(id, job)| {
                let done = u64::from(job.status == sd::JobStatus::Concluded);
                typed(json!({
                    "id": id,
                    "type": "create",
                    "status": job.status,
                    "current-progress": done,
                    "total-progress": 1,
                }))
            })
            .collect()
    }

    async fn job_dismiss(
        &self,
        arguments: sd::commands::JobDismiss,
        session: &Session,
    ) -> Result<Empty, QmpError> {
        let id = arguments.id;
        let status = match self.state().jobs.get(&id) {
            None => return Err(QmpError::generic("Job not found")),
            Some(job) => job.status.clone(),
        };
        if status != sd::JobStatus::Concluded {
            let status = serde_json::to_value(&status).unwrap_or_default();
            return Err(QmpError::generic(format!(
                "Job '{id}' in state '{}' cannot accept command verb 'dismiss'",
                status.as_str().unwrap_or_default()
            )));
        }
        let change = self.set_status(&id, sd::JobStatus::Null);
        self.state().jobs.remove(&id);
        session
            .emit(&change)
            .map_err(|error| QmpError::generic(error.to_string()))?;
        Ok(Empty {})
    }
}

/// Serves a new daemon on the unix socket `path` until SIGINT or SIGTERM.
pub async fn serve(path: &Path) -> io::Result<()> {
    let (events, mut emitted) = mpsc::unbounded_channel();
    let server = QmpServer::new(
        sd::server::Served(Daemon::new(events)),
        ServerConfig::default(),
    );
    let listener = server.listen_unix(path).await?;
    let sender = server.clone();
    let forward = tokio::spawn(async move {
        while let Some(change) = emitted.recv().await {
            // Event data always serializes.
            let _ = sender.emit(&change);
        }
    });
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = terminate.recv() => {}
    }
    listener.stop().await;
    server.shutdown();
    forward.abort();
    Ok(())
}
