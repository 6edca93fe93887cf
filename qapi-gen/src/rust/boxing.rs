//! Which by-value references between generated types must be boxed: one
//! edge of every cycle of the containment graph, chosen the same way every
//! time.
//!
//! A struct holds its members' values (an optional member too: `Option`
//! is by value), a union holds its branches, an alternate its
//! alternatives; arrays hold their elements on the heap and break cycles.
//! Within each strongly connected component, a depth-first search from
//! the type that holds the most others in it and is held by the fewest
//! (the most out-edges less in-edges; the first declared among equals)
//! boxes the edges that lead back to a type on its path: without those,
//! no cycle is left. For QEMU's block layer that is the
//! `BlockdevOptions` alternatives of `BlockdevRef` and `BlockdevRefOrNull`,
//! not each of the fifty drivers' options that hold a `BlockdevRef`. No
//! name is special-cased.

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
        Self {
            edges: back_edges(&successors, &components),
        }
    }

    /// Whether `from` must hold `to` in a `Box`.
    pub(crate) fn is_boxed(&self, from: EntityId, to: EntityId) -> bool {
        self.edges.contains(&(from, to))
    }
}

/// The edges that lead back to a node on the path of a depth-first search
/// of each component, started from its node with the most edges out less
/// edges in, within the component (the lowest index among equals): a
/// union of many types that reach it back through a few is the root, and
/// those few edges are the ones boxed.
fn back_edges(successors: &[Vec<EntityId>], components: &[usize]) -> HashSet<(EntityId, EntityId)> {
    let n = successors.len();
    let inner = |from: usize, to: usize| components[from] == components[to];
    // Edges out less edges in, within the component; `None` for nodes in
    // no cycle.
    let mut balance: Vec<Option<i64>> = vec![None; n];
    for (from, targets) in successors.iter().enumerate() {
        for to in targets.iter().map(|t| t.index()) {
            if inner(from, to) {
                *balance[from].get_or_insert(0) += 1;
                *balance[to].get_or_insert(0) -= 1;
            }
        }
    }
    let mut roots: Vec<Option<usize>> = vec![None; n];
    for node in 0..n {
        let Some(own) = balance[node] else {
            continue;
        };
        let root = &mut roots[components[node]];
        if root.is_none_or(|r| balance[r].is_some_and(|theirs| own > theirs)) {
            *root = Some(node);
        }
    }
    let mut edges = HashSet::new();
    let mut visited = vec![false; n];
    let mut on_path = vec![false; n];
    for root in roots.into_iter().flatten() {
        // (node, position in its successor list)
        let mut work = vec![(root, 0usize)];
        visited[root] = true;
        on_path[root] = true;
        while let Some(&mut (node, ref mut pos)) = work.last_mut() {
            let Some(&next) = successors[node].get(*pos) else {
                on_path[node] = false;
                work.pop();
                continue;
            };
            *pos += 1;
            let next = next.index();
            if !inner(node, next) {
                continue;
            }
            if on_path[next] {
                edges.insert((EntityId(node as u32), EntityId(next as u32)));
            } else if !visited[next] {
                visited[next] = true;
                on_path[next] = true;
                work.push((next, 0));
            }
        }
    }
    edges
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
    fn one_edge_of_each_cycle_is_boxed() {
        let e = |i: u32| EntityId(i);
        // A reference (0) that holds a union (1) of drivers (2, 3, 4)
        // that hold the reference; 5 holds itself; 6 is no cycle.
        let succ = vec![
            vec![e(1)],
            vec![e(2), e(3), e(4)],
            vec![e(0)],
            vec![e(0), e(0)],
            vec![e(0)],
            vec![e(5)],
            vec![e(1)],
        ];
        let edges = back_edges(&succ, &strongly_connected(&succ));
        let expected: HashSet<_> = [(e(0), e(1)), (e(5), e(5))].into_iter().collect();
        assert_eq!(edges, expected);
    }

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
