// Leaks from a generic method and a closure in a plain function, for the
// test that Rust names come out demangled (legacy and v0 mangling alike),
// without their hashes: 100 Strings of 4 bytes from Holder<String>::grow
// (after a Vec that grows), 50 boxes of 1000 bytes from make_boxes, and 20
// boxes of 500 bytes from a thread (Rust's runtime asks pthread_getattr_np
// for the stack of every thread before anything else).
struct Holder<T> {
    items: Vec<T>,
}

impl<T: Clone> Holder<T> {
    #[inline(never)]
    fn grow(&mut self, v: &T, n: usize) {
        for _ in 0..n {
            self.items.push(v.clone());
        }
    }
}

#[inline(never)]
fn make_boxes(n: usize) -> Vec<Box<[u8; 1000]>> {
    (0..n).map(|_| Box::new([7u8; 1000])).collect()
}

fn main() {
    let mut h = Holder { items: Vec::new() };
    h.grow(&String::from("leak"), 100);
    let b = make_boxes(50);
    let t = std::thread::spawn(|| {
        let v: Vec<Box<[u8; 500]>> = (0..20).map(|_| Box::new([1u8; 500])).collect();
        std::mem::forget(v);
    });
    t.join().unwrap();
    std::mem::forget(h);
    std::mem::forget(b);
}
