//! Which by-value references between generated types must be boxed:
//! those inside a cycle of the containment graph.
//!
//! A struct holds its members' values (an optional member too: `Option`
//! is by value), a union holds its branches, an alternate its
//! alternatives; arrays hold their elements on the heap and break cycles.
//! Every by-value edge within one strongly connected component is boxed
//! (self-references included), which makes every type finite without
//! special-casing any name.

use std::collections::HashSet;

use crate::model::{EntityId, EntityKind, Schema};

/// The by-value edges that need a `Box`, as (from, to) type pairs.
#[derive(Debug, Default)]
pub(crate) struct Boxing {
    edges: HashSet<(EntityId, EntityId)>,
}

impl Boxing {
    /// Computes the boxed edges of a schema.
    pub(crate) fn new(schema: &Schema) -> Self {
        let n = schema.entities().len();
        let mut successors: Vec<Vec<EntityId>> = vec![Vec::new(); n];
        for id in schema.ids() {
            successors[id.index()] = by_value_targets(schema, id);
        }
        let components = strongly_connected(&successors);
        let mut edges = HashSet::new();
        for id in schema.ids() {
            for &to in &successors[id.index()] {
                if components[id.index()] == components[to.index()] {
                    edges.insert((id, to));
                }
            }
        }
        Self { edges }
    }

    /// Whether `from` must hold `to` in a `Box`.
    pub(crate) fn is_boxed(&self, from: EntityId, to: EntityId) -> bool {
        self.edges.contains(&(from, to))
    }
}

/// The types an entity holds by value.
fn by_value_targets(schema: &Schema, id: EntityId) -> Vec<EntityId> {
    let keep = |ty: EntityId| {
        matches!(
            schema.entity(ty).kind,
            EntityKind::Object(_) | EntityKind::Alternate(_)
        )
    };
    match &schema.entity(id).kind {
        EntityKind::Object(object) => {
            let mut out: Vec<EntityId> = schema
                .members(id)
                .iter()
                .map(|m| m.ty)
                .filter(|&t| keep(t))
                .collect();
            if let Some(branches) = &object.branches {
                out.extend(branches.variants.iter().map(|v| v.ty).filter(|&t| keep(t)));
            }
            out
        }
        EntityKind::Alternate(alternate) => alternate
            .variants
            .iter()
            .map(|v| v.ty)
            .filter(|&t| keep(t))
            .collect(),
        _ => Vec::new(),
    }
}

/// Tarjan's algorithm, iterative: the component index of every node.
fn strongly_connected(successors: &[Vec<EntityId>]) -> Vec<usize> {
    const UNVISITED: usize = usize::MAX;
    let n = successors.len();
    let mut index = vec![UNVISITED; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![UNVISITED; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut next_component = 0;
    for root in 0..n {
        if index[root] != UNVISITED {
            continue;
        }
        // (node, position in its successor list)
        let mut work = vec![(root, 0usize)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut pos)) = work.last_mut() {
            if let Some(&next) = successors[node].get(*pos) {
                *pos += 1;
                let next = next.index();
                if index[next] == UNVISITED {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = next_component;
                    if member == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components() {
        let e = |i: u32| EntityId(i);
        // 0 -> 1 -> 2 -> 1, 3 -> 3, 4 alone
        let succ = vec![vec![e(1)], vec![e(2)], vec![e(1)], vec![e(3)], vec![]];
        let c = strongly_connected(&succ);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[0], c[1]);
        assert_ne!(c[3], c[4]);
    }
}
