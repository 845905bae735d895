//! Messages between the nodes and the maintainers: what each carries, how they go through the
//! network (checksum messages lossy, commands reliable), and what a node or a maintainer does
//! when one arrives.

use super::*;
/// What a message to a node carries.
#[derive(Clone, Debug)]
pub(super) enum ToNode {
    Bootstrap,
    Update(ChecksumUpdate, Option<Rc<BTreeSet<DispatcherId>>>),
    Create {
        id: DispatcherId,
        mode: Mode,
        start_ts: u64,
    },
    Remove {
        id: DispatcherId,
        mode: Mode,
    },
    Merge {
        sources: Vec<DispatcherId>,
        merged: DispatcherId,
        mode: Mode,
    },
}

/// What a message to a maintainer carries.
#[derive(Clone, Debug)]
pub(super) enum ToMaintainer {
    BootstrapResponse {
        node: NodeId,
        /// The answering process, so a restart after the answer is not mistaken for the
        /// process the maintainer built its view from.
        incarnation: u64,
        reported: Vec<Reported>,
    },
    Ack(ChecksumAck),
    Heartbeat(Box<Heartbeat>),
}

impl Simulation<'_> {
    pub(super) fn send_to_node(&mut self, node: NodeId, from: MaintainerRef, body: ToNode) {
        let reliable = !matches!(body, ToNode::Update(..));
        if let ToNode::Update(update, _) = &body {
            if self.now < self.fault_end {
                self.metrics.updates_sent += 1;
            }
            self.tracer.log(self.now, "maintainer", || {
                format!(
                    "-> {node}: update {} seq {} ({} IDs)",
                    update.mode, update.seq, update.fingerprint.count
                )
            });
        }
        self.send(reliable, || Event::ToNode {
            node,
            from,
            body: body.clone(),
            reliable,
        });
    }

    /// Schedules one message's event at every arrival the network draws for it (none when lost,
    /// two when duplicated); a reliable one counts as in flight until it arrives.
    fn send(&mut self, reliable: bool, event: impl Fn() -> Event) {
        let delivery = if reliable {
            Delivery::Reliable
        } else {
            Delivery::Lossy
        };
        for at in self
            .network
            .arrivals(self.now, delivery, &mut self.network_rng)
            .times()
        {
            if reliable {
                self.reliable_in_flight += 1;
            }
            self.schedule(at, event());
        }
    }

    /// The maintainer of the changefeed running on `host` now (the current one, else the
    /// newest zombie there): where TiCDC delivers what a node addresses to that node
    /// (`downstreamadapter/dispatchermanager/task.go` sends heartbeats to the maintainer's node
    /// ID; acks answer the sender node).
    pub(super) fn instance_on(&self, host: NodeId) -> Option<u64> {
        match &self.maintainer {
            Some(current) if current.me.host == host => Some(current.me.instance),
            _ => self
                .zombies
                .iter()
                .rev()
                .find(|z| z.me.host == host)
                .map(|z| z.me.instance),
        }
    }

    pub(super) fn send_to_maintainer(
        &mut self,
        instance: u64,
        by_host: Option<NodeId>,
        body: ToMaintainer,
    ) {
        let reliable = matches!(body, ToMaintainer::BootstrapResponse { .. });
        self.send(reliable, || Event::ToMaintainer {
            instance,
            by_host,
            body: body.clone(),
            reliable,
        });
    }

    pub(super) fn send_outbox(&mut self, from: MaintainerRef, outbox: Outbox) {
        for command in outbox.commands {
            let (node, body) = match command {
                Command::Bootstrap { node } => (node, ToNode::Bootstrap),
                Command::Create {
                    node,
                    id,
                    mode,
                    start_ts,
                } => (node, ToNode::Create { id, mode, start_ts }),
                Command::Remove { node, id, mode } => (node, ToNode::Remove { id, mode }),
                Command::Merge {
                    node,
                    sources,
                    merged,
                    mode,
                } => (
                    node,
                    ToNode::Merge {
                        sources,
                        merged,
                        mode,
                    },
                ),
            };
            self.send_to_node(node, from, body);
        }
        for (update, oracle) in outbox.updates {
            self.send_to_node(update.node, from, ToNode::Update(update, oracle));
        }
    }

    pub(super) fn node_receives(&mut self, node: NodeId, from: MaintainerRef, body: ToNode) {
        if self.down.contains(&node) {
            return;
        }
        let timing = self.config.timing;
        let now = self.now;
        let Some(sim_node) = self.nodes.get_mut(&node) else {
            return;
        };
        sim_node.now = now;
        let incarnation = sim_node.incarnation;
        let command = matches!(
            body,
            ToNode::Create { .. } | ToNode::Remove { .. } | ToNode::Merge { .. }
        );
        if command && sim_node.fences(from) {
            self.tracer.log(now, node, || {
                format!(
                    "drops a command from maintainer#{} (epoch {}): it follows a newer one",
                    from.instance, from.epoch
                )
            });
            return;
        }
        let output = match body {
            ToNode::Bootstrap => {
                let reported = sim_node.bootstrap(from);
                let incarnation = sim_node.incarnation;
                self.tracer.log(now, node, || {
                    format!(
                        "bootstrap from {} (epoch {} on {}): follows it",
                        from.instance, from.epoch, from.host
                    )
                });
                self.send_to_maintainer(
                    from.instance,
                    None,
                    ToMaintainer::BootstrapResponse {
                        node,
                        incarnation,
                        reported,
                    },
                );
                NodeOutput::default()
            }
            ToNode::Update(update, oracle) => {
                let ack = sim_node.update(from, &update, oracle);
                let held = sim_node.held_version(update.mode);
                self.tracer.log(now, node, || {
                    format!(
                        "update {} seq {} from maintainer#{}: {} (holds {:?})",
                        update.mode,
                        update.seq,
                        from.instance,
                        if ack.is_some() {
                            "applied/acked"
                        } else {
                            "dropped"
                        },
                        held.map(|v| (v.epoch, v.seq))
                    )
                });
                NodeOutput {
                    acks: ack.into_iter().collect(),
                    ..NodeOutput::default()
                }
            }
            ToNode::Create { id, mode, start_ts } => {
                self.tracer
                    .log(now, node, || format!("create {} at {start_ts}", short(id)));
                sim_node.create(id, mode, start_ts, &timing, &mut self.node_rng)
            }
            ToNode::Remove { id, mode } => {
                self.tracer
                    .log(now, node, || format!("remove {}", short(id)));
                sim_node.remove(id, mode, now, &timing, &mut self.node_rng)
            }
            ToNode::Merge {
                sources,
                merged,
                mode,
            } => {
                self.tracer
                    .log(now, node, || format!("merge into {}", short(merged)));
                sim_node.merge(&sources, merged, mode, &timing, &mut self.node_rng)
            }
        };
        // Acks go to the maintainer that sent the update.
        for ack in output.acks.clone() {
            self.send_to_maintainer(from.instance, Some(from.host), ToMaintainer::Ack(ack));
        }
        self.node_output(
            node,
            incarnation,
            NodeOutput {
                acks: Vec::new(),
                ..output
            },
        );
    }

    pub(super) fn node_output(&mut self, node: NodeId, incarnation: u64, output: NodeOutput) {
        for (delay, step) in output.steps {
            self.schedule(
                self.now + delay,
                Event::NodeStep {
                    node,
                    incarnation,
                    step,
                },
            );
        }
        if output.status_flush {
            self.schedule(
                self.now + self.config.timing.status_batch_ms,
                Event::NodeStatusFlush { node, incarnation },
            );
        }
        if output.merge_check {
            self.schedule(
                self.now + self.config.timing.merge_check_ms,
                Event::NodeMergeCheck { node, incarnation },
            );
        }
    }

    pub(super) fn node_heartbeat(&mut self, node: NodeId, incarnation: u64) {
        let timing = self.config.timing;
        let now = self.now;
        let Some(sim_node) = self
            .nodes
            .get_mut(&node)
            .filter(|n| n.incarnation == incarnation)
        else {
            return;
        };
        sim_node.now = now;
        let heartbeat = sim_node.periodic_heartbeat(
            now,
            &self.changefeed,
            &timing,
            &mut self.world,
            &mut self.node_rng,
        );
        self.schedule(
            now + timing.heartbeat_ms,
            Event::NodeHeartbeat { node, incarnation },
        );
        self.check_heartbeat(node);
        if let Some(sim_node) = self.nodes.get_mut(&node) {
            sim_node.now = now;
            sim_node.delete_closed();
        }
        self.send_heartbeat(node, heartbeat);
    }

    pub(super) fn send_heartbeat(&mut self, node: NodeId, heartbeat: Heartbeat) {
        let Some(target) = self.nodes.get(&node).and_then(|n| n.follows) else {
            return;
        };
        self.tracer
            .log(self.now, node, || describe_heartbeat(&heartbeat));
        self.send_to_maintainer(
            target.instance,
            Some(target.host),
            ToMaintainer::Heartbeat(Box::new(heartbeat)),
        );
    }

    pub(super) fn maintainer_receives(&mut self, instance: u64, body: ToMaintainer) {
        let now = self.now;
        let is_current = self
            .maintainer
            .as_ref()
            .is_some_and(|m| m.me.instance == instance);
        // A zombie's operators finishing change nothing real: what the changefeed must replicate
        // follows the current maintainer's decisions.
        let mut scratch = World::new();
        let world = if is_current {
            &mut self.world
        } else {
            &mut scratch
        };
        let tracer = &mut self.tracer;
        let maintainer = if is_current {
            self.maintainer.as_mut()
        } else {
            self.zombies.iter_mut().find(|z| z.me.instance == instance)
        };
        let Some(maintainer) = maintainer else {
            return;
        };
        let me = maintainer.me;
        let mut outboxes = Vec::new();
        match body {
            ToMaintainer::BootstrapResponse {
                node,
                incarnation,
                reported,
            } => {
                outboxes.push(maintainer.bootstrap_response(
                    node,
                    incarnation,
                    reported,
                    world,
                    now,
                    tracer,
                ));
            }
            ToMaintainer::Ack(ack) => {
                if now < self.fault_end {
                    self.metrics.acks_received += 1;
                }
                maintainer.ack(ack);
            }
            ToMaintainer::Heartbeat(heartbeat) => {
                if now < self.fault_end {
                    self.metrics.heartbeats_received += 1;
                }
                let node = heartbeat.node;
                if maintainer.bootstrapped()
                    && maintainer.members.contains(&node)
                    && maintainer.is_new_incarnation(&heartbeat)
                {
                    // Ours sees the restart in the heartbeat itself: the old process's spans are
                    // gone; bootstrap the new one.
                    tracer.log(now, "maintainer", || {
                        format!("{node} restarted (incarnation {})", heartbeat.incarnation)
                    });
                    outboxes.push(maintainer.node_removed(node, world, now, tracer));
                    outboxes.push(maintainer.node_added(node, now, tracer));
                }
                outboxes.push(maintainer.heartbeat(&heartbeat, world, now, tracer));
            }
        }
        for outbox in outboxes {
            self.send_outbox(me, outbox);
        }
    }
}

pub(super) fn describe_heartbeat(heartbeat: &Heartbeat) -> String {
    let statuses: Vec<String> = heartbeat
        .statuses()
        .iter()
        .filter_map(|s| {
            let id = DispatcherId::from(s.id?);
            let state = ComponentState::try_from(s.component_status).ok()?;
            Some(format!("{} {state}", short(id)))
        })
        .take(6)
        .collect();
    let more = heartbeat.statuses().len().saturating_sub(6);
    let checksum = match &heartbeat.body {
        HeartbeatBody::Ours { checksums, .. } => checksums
            .iter()
            .map(|b| {
                format!(
                    "{} {} (state seq {}, hb {}, on {}/{}) wm {}",
                    b.mode,
                    b.state,
                    b.state_seq,
                    b.seq,
                    b.verified_against.epoch,
                    b.verified_against.seq,
                    b.watermark.map_or("-".to_string(), |w| w.to_string())
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        HeartbeatBody::Reference(r) => format!(
            "default {} (seq {}) wm {}",
            ChecksumState::try_from(r.checksum_state).unwrap_or_default(),
            r.checksum_state_seq,
            r.watermark.map_or("-".to_string(), |w| format!(
                "{} (seq {})",
                w.checkpoint_ts, w.seq
            ))
        ),
    };
    format!(
        "heartbeat{}: {checksum}{}{}",
        if heartbeat.complete {
            " (complete)"
        } else {
            ""
        },
        if statuses.is_empty() {
            String::new()
        } else {
            format!("; statuses {}", statuses.join(", "))
        },
        if more > 0 {
            format!(" +{more}")
        } else {
            String::new()
        }
    )
}
