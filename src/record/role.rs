//! What kind of work a credit's role names: production, engineering, mastering, session playing,
//! design, management or other. The rules are the ones the service we replace classifies by, so
//! its users get the same categories for the same credits: a role that equals a known fragment
//! takes its category; otherwise the longest fragment it contains (alphabetically first among
//! equally long ones) decides; otherwise it is `other`.

use std::sync::LazyLock;

/// A credit role's category, in the order the routes list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Production,
    Engineering,
    Mastering,
    Session,
    Design,
    Management,
    Other,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Production,
        Category::Engineering,
        Category::Mastering,
        Category::Session,
        Category::Design,
        Category::Management,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Production => "production",
            Category::Engineering => "engineering",
            Category::Mastering => "mastering",
            Category::Session => "session",
            Category::Design => "design",
            Category::Management => "management",
            Category::Other => "other",
        }
    }

    /// The category a role string (e.g. "Guitar [Electric]", "Producer, Mixed By") falls in.
    pub fn of(role: &str) -> Category {
        let role = role.trim().to_lowercase();
        if let Some((_, category)) = FRAGMENTS.iter().find(|(fragment, _)| *fragment == role) {
            return *category;
        }
        BY_LENGTH
            .iter()
            .find(|(fragment, _)| role.contains(fragment))
            .map_or(Category::Other, |(_, category)| *category)
    }
}

/// Every fragment and the category it marks.
const FRAGMENTS: &[(&str, Category)] = &[
    ("producer", Category::Production),
    ("executive producer", Category::Production),
    ("co-producer", Category::Production),
    ("executive-producer", Category::Production),
    ("produced by", Category::Production),
    ("co-produced by", Category::Production),
    ("engineer", Category::Engineering),
    ("recorded by", Category::Engineering),
    ("mixed by", Category::Engineering),
    ("mixed at", Category::Engineering),
    ("remix", Category::Engineering),
    ("remixed by", Category::Engineering),
    ("recording engineer", Category::Engineering),
    ("mixing engineer", Category::Engineering),
    ("sound engineer", Category::Engineering),
    ("audio engineer", Category::Engineering),
    ("assistant engineer", Category::Engineering),
    ("mastered by", Category::Mastering),
    ("mastered at", Category::Mastering),
    ("lacquer cut by", Category::Mastering),
    ("cut by", Category::Mastering),
    ("mastering engineer", Category::Mastering),
    ("remastered by", Category::Mastering),
    ("bass", Category::Session),
    ("guitar", Category::Session),
    ("drums", Category::Session),
    ("keyboards", Category::Session),
    ("piano", Category::Session),
    ("percussion", Category::Session),
    ("saxophone", Category::Session),
    ("trumpet", Category::Session),
    ("violin", Category::Session),
    ("viola", Category::Session),
    ("cello", Category::Session),
    ("flute", Category::Session),
    ("organ", Category::Session),
    ("synthesizer", Category::Session),
    ("vocals", Category::Session),
    ("backing vocals", Category::Session),
    ("lead vocals", Category::Session),
    ("strings", Category::Session),
    ("horns", Category::Session),
    ("harmonica", Category::Session),
    ("banjo", Category::Session),
    ("mandolin", Category::Session),
    ("harp", Category::Session),
    ("clarinet", Category::Session),
    ("oboe", Category::Session),
    ("trombone", Category::Session),
    ("tuba", Category::Session),
    ("accordion", Category::Session),
    ("tabla", Category::Session),
    ("sitar", Category::Session),
    ("congas", Category::Session),
    ("bongos", Category::Session),
    ("session musician", Category::Session),
    ("featuring", Category::Session),
    ("artwork", Category::Design),
    ("artwork by", Category::Design),
    ("design", Category::Design),
    ("designed by", Category::Design),
    ("photography", Category::Design),
    ("photography by", Category::Design),
    ("liner notes", Category::Design),
    ("cover", Category::Design),
    ("layout", Category::Design),
    ("illustration", Category::Design),
    ("art direction", Category::Design),
    ("a&r", Category::Management),
    ("management", Category::Management),
    ("managed by", Category::Management),
    ("booking", Category::Management),
    ("booked by", Category::Management),
    ("a & r", Category::Management),
];

/// [`FRAGMENTS`] longest first, equally long ones alphabetically: the order substrings are tried.
static BY_LENGTH: LazyLock<Vec<(&'static str, Category)>> = LazyLock::new(|| {
    let mut fragments = FRAGMENTS.to_vec();
    fragments.sort_by(|(a, _), (b, _)| b.len().cmp(&a.len()).then(a.cmp(b)));
    fragments
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_fall_in_the_categories_of_the_worked_examples() {
        let cases = [
            ("Written-By", Category::Other),
            ("Composed By", Category::Other),
            ("Arranged By", Category::Other),
            ("Lyrics By", Category::Other),
            ("Conductor", Category::Other),
            ("Programmed By", Category::Other),
            ("DJ Mix", Category::Other),
            ("Drum Programming", Category::Other),
            ("Guitar [Electric]", Category::Session),
            ("Engineer [Mastering]", Category::Engineering),
            // The longer fragment wins; equally long ones go alphabetically.
            ("Producer, Mastered By", Category::Mastering),
            ("Engineer, Producer", Category::Engineering),
            ("Organized By", Category::Session),
            ("Discovered By", Category::Design),
            ("Sound Designer", Category::Design),
            ("Harpsichord", Category::Session),
            // Exact, whatever the case and the spaces around it.
            ("  Executive Producer ", Category::Production),
            ("A&R", Category::Management),
            ("Lacquer Cut By", Category::Mastering),
            ("", Category::Other),
        ];
        for (role, category) in cases {
            assert_eq!(Category::of(role), category, "{role:?}");
        }
    }

    #[test]
    fn there_are_74_fragments_each_once() {
        assert_eq!(FRAGMENTS.len(), 74);
        let mut names: Vec<&str> = FRAGMENTS.iter().map(|(fragment, _)| *fragment).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 74);
    }
}
