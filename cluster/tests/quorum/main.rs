//! The metadata quorum over real sockets on 127.0.0.1: one binary, a module per area.

mod bad_frames;
mod cluster;
mod liveness;
mod single_node;
mod support;
