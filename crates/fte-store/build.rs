//! `sqlx::migrate!` embeds `migrations/` at compile time; a migration added
//! later must rebuild this crate, which cargo only knows from here.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
