//! The DRF sorter: orders clients (roles, or the frameworks of one role)
//! by weighted dominant share, as Mesos's `DRFSorter`.
//!
//! Clients live in a tree by their `/`-separated path (`a/b/c` lies under
//! `a/b` under `a`); each node's allocation is the sum of its subtree's.
//! Siblings are ordered by (weighted share, allocation count, path), the
//! order Mesos uses, and the order of clients is the pre-order walk of the
//! tree with each node's children in that order.
//!
//! Unlike Mesos, which re-sorts a vector whenever it is dirty, every node
//! keeps its children in an ordered set updated on each allocation change
//! (O(depth · log n)), so walking the order costs nothing up front and a
//! walk that stops at the first fitting client is cheap. Only a change of
//! the cluster's total (which moves every share) forces a full re-sort, and
//! that is done lazily, once, by [`Sorter::refresh`].
//!
//! Quantities are plain vectors of thousandths indexed by resource-name
//! ids the caller assigns (see [`Quantities`]).

use super::FastMap as HashMap;
use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use smallvec::SmallVec;

/// Scalar amounts by resource-name id, in thousandths. Inline for the
/// usual handful of names: a cycle updates thousands of them, and a heap
/// pointer per node costs a cache miss each time.
pub type Quantities = SmallVec<[i64; 6]>;

/// Adds `b` into `a`, growing `a` as needed.
pub fn add_quantities(a: &mut Quantities, b: &[i64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// Takes `b` out of `a` (never below zero).
pub fn subtract_quantities(a: &mut Quantities, b: &[i64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x = (*x - y).max(0);
    }
}

/// What shares are computed against: the cluster's total by name id, and
/// which names are left out of fair sharing
/// (`--fair_sharing_excluded_resource_names`).
#[derive(Debug, Clone, Copy)]
pub struct ShareBasis<'a> {
    /// The total of every agent, by name id.
    pub total: &'a [i64],
    /// Names left out of the dominant share, by name id.
    pub excluded: &'a [bool],
    /// Bumped by the caller whenever `total` or `excluded` changes.
    pub version: u64,
}

impl ShareBasis<'_> {
    /// The dominant share of `allocation`: its largest fraction of the
    /// total over the names that count.
    pub fn dominant_share(&self, allocation: &[i64]) -> f64 {
        let mut share = 0.0f64;
        for (i, &amount) in allocation.iter().enumerate() {
            let total = self.total.get(i).copied().unwrap_or(0);
            if amount == 0 || total <= 0 || self.excluded.get(i).copied().unwrap_or(false) {
                continue;
            }
            share = share.max(amount as f64 / total as f64);
        }
        share
    }
}

/// A sibling's place in its parent's order.
#[derive(Debug, Clone)]
struct Key {
    share: f64,
    count: u64,
    path: Arc<str>,
    node: usize,
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        self.share
            .total_cmp(&other.share)
            .then(self.count.cmp(&other.count))
            .then_with(|| self.path.cmp(&other.path))
            // A client `a` sits under node `a` with the same path.
            .then(self.node.cmp(&other.node))
    }
}

#[derive(Debug)]
struct Node {
    path: Arc<str>,
    parent: Option<usize>,
    /// A client (leaf) or a path node (internal).
    leaf: bool,
    /// Leaves only: whether it takes part in the order.
    active: bool,
    /// Internal nodes: children taking part in the order.
    children: BTreeSet<Key>,
    /// Internal nodes: how many children (active or not) it has.
    child_count: usize,
    allocation: Quantities,
    count: u64,
    /// The key this node is filed under in its parent, if filed.
    key: Option<Key>,
}

/// A DRF sorter over named clients. See the module documentation.
#[derive(Debug)]
pub struct Sorter {
    nodes: Vec<Option<Node>>,
    free: Vec<usize>,
    /// Client path → leaf node.
    clients: HashMap<Arc<str>, usize>,
    /// Path → internal node (the root is "").
    internals: HashMap<Arc<str>, usize>,
    weights: HashMap<String, f64>,
    /// Whether client names are split on `/` (roles) or not (framework ids).
    hierarchical: bool,
    /// The basis version the keys were computed under.
    sorted_version: Option<u64>,
}

const ROOT: usize = 0;

impl Sorter {
    /// An empty sorter; `hierarchical` says whether client names are role
    /// paths to split on `/`.
    pub fn new(hierarchical: bool) -> Sorter {
        let root = Node {
            path: Arc::from(""),
            parent: None,
            leaf: false,
            active: true,
            children: BTreeSet::new(),
            child_count: 0,
            allocation: Quantities::new(),
            count: 0,
            key: None,
        };
        let mut internals = HashMap::default();
        internals.insert(Arc::from(""), ROOT);
        Sorter {
            nodes: vec![Some(root)],
            free: Vec::new(),
            clients: HashMap::default(),
            internals,
            weights: HashMap::default(),
            hierarchical,
            sorted_version: None,
        }
    }

    fn node(&self, i: usize) -> &Node {
        self.nodes[i]
            .as_ref()
            .expect("sorter node ids are always live")
    }

    fn node_mut(&mut self, i: usize) -> &mut Node {
        self.nodes[i]
            .as_mut()
            .expect("sorter node ids are always live")
    }

    fn alloc_node(&mut self, node: Node) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i] = Some(node);
                i
            }
            None => {
                self.nodes.push(Some(node));
                self.nodes.len() - 1
            }
        }
    }

    fn new_node(path: Arc<str>, parent: usize, leaf: bool) -> Node {
        Node {
            path,
            parent: Some(parent),
            leaf,
            active: false,
            children: BTreeSet::new(),
            child_count: 0,
            allocation: Quantities::new(),
            count: 0,
            key: None,
        }
    }

    /// Whether `client` is known.
    pub fn contains(&self, client: &str) -> bool {
        self.clients.contains_key(client)
    }

    /// How many clients there are.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether there is no client.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// The weight of the node at `path` (1 unless set).
    pub fn weight(&self, path: &str) -> f64 {
        self.weights.get(path).copied().unwrap_or(1.0)
    }

    /// Sets the weights of paths (a path not listed weighs 1); shares are
    /// recomputed at the next [`Sorter::refresh`].
    pub fn set_weights(&mut self, weights: impl IntoIterator<Item = (String, f64)>) {
        self.weights = weights.into_iter().collect();
        self.sorted_version = None;
    }

    fn share_of(&self, i: usize, basis: &ShareBasis<'_>) -> f64 {
        let node = self.node(i);
        basis.dominant_share(&node.allocation) / self.weight(&node.path)
    }

    fn key_of(&self, i: usize, basis: &ShareBasis<'_>) -> Key {
        let node = self.node(i);
        Key {
            share: self.share_of(i, basis),
            count: node.count,
            path: node.path.clone(),
            node: i,
        }
    }

    /// Files node `i` in its parent's order (or refiles it).
    fn file(&mut self, i: usize, basis: &ShareBasis<'_>) {
        let key = self.key_of(i, basis);
        self.unfile(i);
        if let Some(parent) = self.node(i).parent {
            self.node_mut(parent).children.insert(key.clone());
            self.node_mut(i).key = Some(key);
        }
    }

    fn unfile(&mut self, i: usize) {
        if let Some(key) = self.node_mut(i).key.take() {
            if let Some(parent) = self.node(i).parent {
                self.node_mut(parent).children.remove(&key);
            }
        }
    }

    /// Adds `client` (active), with its path nodes. Adding a known client
    /// changes nothing.
    pub fn add(&mut self, client: &str, basis: &ShareBasis<'_>) {
        if self.contains(client) {
            return;
        }
        let mut parent = ROOT;
        if self.hierarchical {
            let mut end = 0;
            for component in client.split('/') {
                end += component.len();
                let path = &client[..end];
                parent = match self.internals.get(path) {
                    Some(&i) => i,
                    None => {
                        let path: Arc<str> = Arc::from(path);
                        let i = self.alloc_node(Self::new_node(path.clone(), parent, false));
                        self.node_mut(parent).child_count += 1;
                        self.internals.insert(path, i);
                        self.file(i, basis);
                        i
                    }
                };
                end += 1;
            }
        }
        let path: Arc<str> = Arc::from(client);
        let leaf = self.alloc_node(Self::new_node(path.clone(), parent, true));
        self.node_mut(parent).child_count += 1;
        self.clients.insert(path, leaf);
        self.activate(client, basis);
    }

    /// Removes `client` and the path nodes left empty. Its allocation is
    /// taken out of its ancestors.
    pub fn remove(&mut self, client: &str, basis: &ShareBasis<'_>) {
        let Some(leaf) = self.clients.remove(client) else {
            return;
        };
        let allocation = self.node(leaf).allocation.clone();
        self.unfile(leaf);
        let mut parent = self.node(leaf).parent;
        self.nodes[leaf] = None;
        self.free.push(leaf);
        let mut removing = true;
        while let Some(i) = parent {
            if removing {
                self.node_mut(i).child_count -= 1;
            }
            subtract_quantities(&mut self.node_mut(i).allocation, &allocation);
            let next = self.node(i).parent;
            if i != ROOT && removing && self.node(i).child_count == 0 {
                self.unfile(i);
                let path = self.node(i).path.clone();
                self.internals.remove(&path);
                self.nodes[i] = None;
                self.free.push(i);
            } else {
                removing = false;
                if i != ROOT {
                    self.file(i, basis);
                }
            }
            parent = next;
        }
    }

    /// Puts `client` back in the order.
    pub fn activate(&mut self, client: &str, basis: &ShareBasis<'_>) {
        if let Some(&leaf) = self.clients.get(client) {
            self.node_mut(leaf).active = true;
            self.file(leaf, basis);
        }
    }

    /// Leaves `client` out of the order; it keeps its allocation.
    pub fn deactivate(&mut self, client: &str) {
        if let Some(&leaf) = self.clients.get(client) {
            self.node_mut(leaf).active = false;
            self.unfile(leaf);
        }
    }

    /// Whether `client` takes part in the order.
    pub fn is_active(&self, client: &str) -> bool {
        self.clients
            .get(client)
            .is_some_and(|&leaf| self.node(leaf).active)
    }

    fn change(&mut self, client: &str, amount: &[i64], add: bool, basis: &ShareBasis<'_>) {
        let Some(&leaf) = self.clients.get(client) else {
            return;
        };
        let fresh = self.sorted_version == Some(basis.version);
        let mut current = Some(leaf);
        while let Some(i) = current {
            let node = self.node_mut(i);
            if add {
                add_quantities(&mut node.allocation, amount);
                node.count += 1;
            } else {
                subtract_quantities(&mut node.allocation, amount);
            }
            let (active, leaf, parent) = (node.active, node.leaf, node.parent);
            if fresh && parent.is_some() && (!leaf || active) {
                self.file(i, basis);
            }
            current = parent;
        }
    }

    /// Records that `client` was allocated `amount` more.
    pub fn allocated(&mut self, client: &str, amount: &[i64], basis: &ShareBasis<'_>) {
        self.change(client, amount, true, basis);
    }

    /// Records that `client` gave `amount` back.
    pub fn unallocated(&mut self, client: &str, amount: &[i64], basis: &ShareBasis<'_>) {
        self.change(client, amount, false, basis);
    }

    /// What `client` holds, by name id.
    pub fn allocation(&self, client: &str) -> Option<&[i64]> {
        self.clients
            .get(client)
            .map(|&leaf| self.node(leaf).allocation.as_slice())
    }

    /// What all clients hold together, by name id.
    pub fn total_allocation(&self) -> &[i64] {
        &self.node(ROOT).allocation
    }

    /// `client`'s weighted dominant share, if known.
    pub fn share(&self, client: &str, basis: &ShareBasis<'_>) -> Option<f64> {
        self.clients
            .get(client)
            .map(|&leaf| self.share_of(leaf, basis))
    }

    /// Brings the order up to date with `basis` (a changed total or
    /// weights move every share): recomputes every key once. Cheap when
    /// nothing changed.
    pub fn refresh(&mut self, basis: &ShareBasis<'_>) {
        if self.sorted_version == Some(basis.version) {
            return;
        }
        for i in 0..self.nodes.len() {
            if let Some(node) = &mut self.nodes[i] {
                node.children.clear();
                node.key = None;
            }
        }
        for i in 1..self.nodes.len() {
            let filed = match &self.nodes[i] {
                Some(node) => !node.leaf || node.active,
                None => false,
            };
            if filed {
                self.file(i, basis);
            }
        }
        self.sorted_version = Some(basis.version);
    }

    /// Whether the order is up to date with `basis`.
    pub fn is_fresh(&self, basis: &ShareBasis<'_>) -> bool {
        self.sorted_version == Some(basis.version)
    }

    /// Walks the active clients in DRF order until `visit` breaks. Call
    /// [`Sorter::refresh`] first if the basis changed.
    /// Clients come as the sorter's own shared names, so a caller can
    /// keep one without copying it.
    pub fn walk<B>(&self, mut visit: impl FnMut(&Arc<str>) -> ControlFlow<B>) -> ControlFlow<B> {
        self.walk_from(ROOT, &mut visit)
    }

    fn walk_from<B>(
        &self,
        i: usize,
        visit: &mut impl FnMut(&Arc<str>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        for key in &self.node(i).children {
            let child = self.node(key.node);
            if child.leaf {
                visit(&child.path)?;
            } else {
                self.walk_from(key.node, visit)?;
            }
        }
        ControlFlow::Continue(())
    }

    /// The active clients in DRF order.
    pub fn sort(&mut self, basis: &ShareBasis<'_>) -> Vec<String> {
        self.refresh(basis);
        let mut out = Vec::with_capacity(self.clients.len());
        let _ = self.walk::<()>(|client| {
            out.push(client.to_string());
            ControlFlow::Continue(())
        });
        out
    }

    /// Every client, in no particular order.
    pub fn clients(&self) -> impl Iterator<Item = &str> {
        self.clients.keys().map(|k| &**k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis(total: &[i64]) -> ShareBasis<'_> {
        ShareBasis {
            total,
            excluded: &[],
            version: 1,
        }
    }

    #[test]
    fn orders_by_dominant_share_then_name() {
        // cpus, mem
        let total = [100_000, 100_000];
        let b = basis(&total);
        let mut s = Sorter::new(true);
        for c in ["c", "a", "b"] {
            s.add(c, &b);
        }
        assert_eq!(s.sort(&b), ["a", "b", "c"]);
        s.allocated("a", &[10_000, 0], &b);
        s.allocated("b", &[0, 5_000], &b);
        assert_eq!(s.sort(&b), ["c", "b", "a"]);
        s.unallocated("a", &[10_000, 0], &b);
        // a's share is 0 again, but it was allocated once: the count
        // breaks the tie with c, as in Mesos.
        assert_eq!(s.sort(&b), ["c", "a", "b"]);
    }

    #[test]
    fn weights_divide_the_share() {
        let total = [100_000];
        let b = basis(&total);
        let mut s = Sorter::new(true);
        s.add("heavy", &b);
        s.add("light", &b);
        s.set_weights([("heavy".to_string(), 3.0)]);
        s.allocated("heavy", &[30_000], &b);
        s.allocated("light", &[20_000], &b);
        // heavy: 0.3 / 3 = 0.1 < light: 0.2.
        assert_eq!(s.sort(&b), ["heavy", "light"]);
        assert!((s.share("heavy", &b).unwrap() - 0.1).abs() < 1e-9);
    }

    #[test]
    fn hierarchical_roles_sort_subtrees_by_their_sum() {
        let total = [100_000];
        let b = basis(&total);
        let mut s = Sorter::new(true);
        for c in ["a/x", "a/y", "b", "a"] {
            s.add(c, &b);
        }
        s.allocated("a/x", &[10_000], &b);
        s.allocated("a/y", &[10_000], &b);
        s.allocated("b", &[15_000], &b);
        // Subtree a holds 20% > b's 15%, so b comes first; inside a, the
        // client a itself holds nothing.
        assert_eq!(s.sort(&b), ["b", "a", "a/x", "a/y"]);
        s.remove("a/x", &b);
        assert_eq!(s.sort(&b), ["a", "a/y", "b"]);
    }

    #[test]
    fn inactive_clients_keep_allocation_but_leave_the_order() {
        let total = [100_000];
        let b = basis(&total);
        let mut s = Sorter::new(false);
        s.add("f1", &b);
        s.add("f2", &b);
        s.allocated("f1", &[1_000], &b);
        s.deactivate("f1");
        assert_eq!(s.sort(&b), ["f2"]);
        assert_eq!(s.allocation("f1"), Some(&[1_000][..]));
        s.activate("f1", &b);
        assert_eq!(s.sort(&b), ["f2", "f1"]);
    }

    #[test]
    fn a_new_total_reorders_on_refresh() {
        // f1 holds 50 cpus of 100; f2 holds 40 mem of 100.
        let mut total = vec![100_000, 100_000];
        let mut s = Sorter::new(false);
        {
            let b = basis(&total);
            s.add("f1", &b);
            s.add("f2", &b);
            s.allocated("f1", &[50_000, 0], &b);
            s.allocated("f2", &[0, 40_000], &b);
            assert_eq!(s.sort(&b), ["f2", "f1"]);
        }
        // Ten times the cpus: f1 is now at 5%.
        total[0] = 1_000_000;
        let b = ShareBasis {
            total: &total,
            excluded: &[],
            version: 2,
        };
        assert_eq!(s.sort(&b), ["f1", "f2"]);
    }
}
