// A Rust program with exactly known leaks, for report.sh's Rust tests
// (std only; built there with rustc -C opt-level=2 -g, both manglings):
//   leak_boxes:   10 blocks of 300 B, Box::leak
//   forget_vec:    1 block of 2000 B, mem::forget of a Vec<u64> of 250
//   rc_cycle:      5 cycles of two Rc<Node> (each an RcInner of 56 B: two
//                  counts, the RefCell<Option<Rc>> and the Vec header) with
//                  a 64 B payload each: 10 x 56 B and 10 x 64 B
//   grow:          a String grown by realloc, freed (no leak)
//   a thread that allocates 20 blocks of 100 B and hands them back to main,
//                  which frees them (freed across threads)
//   panicky:       3 blocks of 111 B kept through a caught panic (and
//                  main's Vec that keeps them, 72 B)
// Every allocation of Rust's own goes through alloc::alloc::alloc, in
// std's code (the runtime's start, spawn) and inlined into this program's,
// whose DWARF name std's source files in two ways.
use std::cell::RefCell;
use std::rc::Rc;

struct Node {
    next: RefCell<Option<Rc<Node>>>,
    payload: Vec<u8>,
}

#[inline(never)]
fn leak_boxes(n: usize) {
    for i in 0..n {
        let b: &'static mut [u8; 300] = Box::leak(Box::new([i as u8; 300]));
        std::hint::black_box(b);
    }
}

#[inline(never)]
fn forget_vec() {
    let v: Vec<u64> = vec![1; 250];
    std::mem::forget(std::hint::black_box(v));
}

#[inline(never)]
fn rc_cycle() {
    let a = Rc::new(Node { next: RefCell::new(None), payload: vec![0; 64] });
    let b = Rc::new(Node { next: RefCell::new(Some(a.clone())), payload: vec![0; 64] });
    *a.next.borrow_mut() = Some(b.clone());
    std::hint::black_box(&a.payload);
}

#[inline(never)]
fn grow() -> usize {
    let mut s = String::new();
    for i in 0..1000 {
        s.push_str(&i.to_string());
    }
    s.len()
}

#[inline(never)]
fn panicky(keep: &mut Vec<Vec<u8>>) {
    keep.push(std::hint::black_box(vec![6u8; 111]));
    panic!("caught");
}

fn main() {
    leak_boxes(10);
    forget_vec();
    for _ in 0..5 {
        rc_cycle();
    }
    std::hint::black_box(grow());
    let t = std::thread::spawn(|| (0..20).map(|i| vec![i as u8; 100]).collect::<Vec<_>>());
    let v = t.join().unwrap();
    drop(std::hint::black_box(v));
    std::panic::set_hook(Box::new(|_| {}));
    let mut keep = Vec::with_capacity(3);
    for _ in 0..3 {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| panicky(&mut keep)));
        assert!(r.is_err());
    }
    std::mem::forget(keep);
}
