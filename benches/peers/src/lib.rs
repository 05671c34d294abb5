//! The peer benchmark's parts (`bench-peers`, src/main.rs): the workload, the servers it
//! starts and measures, the clients of each protocol, the report. The morning-storm generator
//! (benches/storm) starts its servers and builds its days with the same code.

pub mod ceiling;
pub mod fieldsync;
pub mod repo_protocol;
pub mod report;
pub mod run;
pub mod servers;
pub mod verify;
pub mod wire;
pub mod workload;
