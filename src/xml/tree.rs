//! A small element tree for one record, built from quick-xml events.
//!
//! Each record (a few kB of XML) is read into a [`Tree`] and then mapped to its canonical struct by
//! navigating [`Node`]s. The tree keeps every name, attribute and text in one string buffer and
//! every element in one vector, both reused from record to record, so steady-state parsing does
//! not allocate for the tree at all. Text is decoded exactly: entity and character references are
//! resolved (`&#13;` becomes `\r`), CDATA is taken as is, nothing is trimmed; only literal line
//! ends are normalised, and in attribute values a literal tab or line end reads as a space, as
//! XML 1.0 says (§2.11, §3.3.3).

use std::ops::Range;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

/// An attribute value as XML 1.0 §3.3.3 reads it: each literal tab, CR, LF or CR LF is one space.
/// Runs before references are resolved, so `&#13;` or `&#10;` stay the characters they name.
fn normalize_attribute_whitespace(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.contains(['\t', '\r', '\n']) {
        return raw.into();
    }
    raw.replace("\r\n", " ")
        .replace(['\t', '\r', '\n'], " ")
        .into()
}

/// Why an element could not be read. Offsets are relative to the reader's input.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("malformed XML: {0}")]
    Syntax(#[from] quick_xml::Error),
    #[error("malformed attribute: {0}")]
    Attribute(#[from] quick_xml::events::attributes::AttrError),
    #[error("invalid UTF-8 in {0}")]
    Encoding(&'static str),
    #[error("closing tag </{found}> does not match <{expected}>")]
    MismatchedEnd { expected: String, found: String },
    #[error("input ends inside <{0}>")]
    UnexpectedEof(String),
    #[error("record nests deeper than {MAX_DEPTH} elements")]
    TooDeep,
}

/// Elements nest this deep at most; real records reach 6 (release/tracklist/track/sub_tracks/…).
const MAX_DEPTH: usize = 64;
const NONE: u32 = u32::MAX;

#[derive(Debug)]
struct ElementData {
    name: Range<u32>,
    text: Range<u32>,
    attributes: Range<u32>,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
}

/// One record's elements. Build with [`Tree::read`], navigate from [`Tree::root`].
#[derive(Debug, Default)]
pub struct Tree {
    buffer: String,
    elements: Vec<ElementData>,
    /// (name, value) ranges into `buffer`.
    attributes: Vec<(Range<u32>, Range<u32>)>,
}

impl Tree {
    /// Reads the element that `start` opened (its `Start` event has just been returned by
    /// `reader`) up to its matching end tag, replacing what the tree held before.
    ///
    /// The reader must have `expand_empty_elements` on, so `<a/>` arrives as a start and an end.
    ///
    /// # Errors
    ///
    /// Malformed XML, invalid UTF-8, mismatched tags, or the input ending inside the element.
    pub fn read(
        &mut self,
        reader: &mut Reader<&[u8]>,
        start: &BytesStart<'_>,
    ) -> Result<(), TreeError> {
        self.buffer.clear();
        self.elements.clear();
        self.attributes.clear();
        let mut open: Vec<u32> = Vec::with_capacity(16);
        open.push(self.push_element(start, None)?);
        while let Some(&current) = open.last() {
            match reader.read_event()? {
                Event::Start(element) => {
                    if open.len() >= MAX_DEPTH {
                        return Err(TreeError::TooDeep);
                    }
                    open.push(self.push_element(&element, Some(current))?);
                }
                Event::End(end) => {
                    let expected = self.range_str(&self.elements[current as usize].name);
                    if end.name().as_ref() != expected.as_bytes() {
                        return Err(TreeError::MismatchedEnd {
                            expected: expected.to_owned(),
                            found: String::from_utf8_lossy(end.name().as_ref()).into_owned(),
                        });
                    }
                    open.pop();
                }
                // Line ends are normalised as XML 1.0 requires (a literal CR LF or CR is a LF), so a
                // file saved with CRLF line ends holds the same records; `&#13;` stays a CR.
                Event::Text(text) => {
                    let text = text
                        .xml10_content()
                        .map_err(|_| TreeError::Encoding("text"))?;
                    self.push_text(current, &text);
                }
                Event::CData(data) => {
                    let text =
                        std::str::from_utf8(&data).map_err(|_| TreeError::Encoding("CDATA"))?;
                    if text.contains('\r') {
                        self.push_text(current, &text.replace("\r\n", "\n").replace('\r', "\n"));
                    } else {
                        self.push_text(current, text);
                    }
                }
                Event::GeneralRef(reference) => {
                    let mut utf8 = [0u8; 4];
                    let name = std::str::from_utf8(&reference)
                        .map_err(|_| TreeError::Encoding("entity"))?;
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(ch)) => Some(&*ch.encode_utf8(&mut utf8)),
                        Ok(None) => resolve_predefined_entity(name),
                        Err(_) => None,
                    };
                    match resolved {
                        Some(text) => self.push_text(current, text),
                        // Unknown or invalid reference: keep it as written rather than lose it.
                        None => {
                            let literal = format!("&{name};");
                            self.push_text(current, &literal);
                        }
                    }
                }
                Event::Eof => {
                    let name = self
                        .range_str(&self.elements[current as usize].name)
                        .to_owned();
                    return Err(TreeError::UnexpectedEof(name));
                }
                Event::Empty(_)
                | Event::Comment(_)
                | Event::Decl(_)
                | Event::PI(_)
                | Event::DocType(_) => {}
            }
        }
        Ok(())
    }

    /// The element the tree was read from.
    ///
    /// # Panics
    ///
    /// If called before a successful [`Tree::read`].
    pub fn root(&self) -> Node<'_> {
        assert!(!self.elements.is_empty(), "Tree::root before Tree::read");
        Node {
            tree: self,
            index: 0,
        }
    }

    fn push_element(
        &mut self,
        start: &BytesStart<'_>,
        parent: Option<u32>,
    ) -> Result<u32, TreeError> {
        let qname = start.name();
        let name =
            std::str::from_utf8(qname.as_ref()).map_err(|_| TreeError::Encoding("element name"))?;
        let name = self.push_str(name);
        let first_attribute = self.attributes.len() as u32;
        for attribute in start.attributes() {
            let attribute = attribute?;
            let key = std::str::from_utf8(attribute.key.as_ref())
                .map_err(|_| TreeError::Encoding("attribute name"))?;
            let key = self.push_str(key);
            let raw = std::str::from_utf8(&attribute.value)
                .map_err(|_| TreeError::Encoding("attribute value"))?;
            let normalized = normalize_attribute_whitespace(raw);
            let value = quick_xml::escape::unescape(&normalized).map_err(quick_xml::Error::from)?;
            let value = self.push_str(&value);
            self.attributes.push((key, value));
        }
        let index = self.elements.len() as u32;
        let at_end = self.buffer.len() as u32;
        self.elements.push(ElementData {
            name,
            text: at_end..at_end,
            attributes: first_attribute..self.attributes.len() as u32,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
        });
        if let Some(parent) = parent {
            let parent_data = &mut self.elements[parent as usize];
            let previous = parent_data.last_child;
            parent_data.last_child = index;
            if previous == NONE {
                parent_data.first_child = index;
            } else {
                self.elements[previous as usize].next_sibling = index;
            }
        }
        Ok(index)
    }

    /// Appends text to an element's content, keeping each element's text contiguous.
    fn push_text(&mut self, element: u32, text: &str) {
        let end = self.buffer.len() as u32;
        let range = self.elements[element as usize].text.clone();
        if range.end != end {
            // Something else was written since this element's text began (mixed content):
            // move the text so far to the end of the buffer so the content stays one range.
            let so_far = self.range_str(&range).to_owned();
            self.elements[element as usize].text = self.push_str(&so_far);
        }
        self.buffer.push_str(text);
        self.elements[element as usize].text.end = self.buffer.len() as u32;
    }

    fn push_str(&mut self, s: &str) -> Range<u32> {
        let start = self.buffer.len() as u32;
        self.buffer.push_str(s);
        start..self.buffer.len() as u32
    }

    fn range_str(&self, range: &Range<u32>) -> &str {
        &self.buffer[range.start as usize..range.end as usize]
    }
}

/// A handle on one element of a [`Tree`]; cheap to copy.
#[derive(Clone, Copy)]
pub struct Node<'t> {
    tree: &'t Tree,
    index: u32,
}

impl<'t> Node<'t> {
    fn data(&self) -> &'t ElementData {
        &self.tree.elements[self.index as usize]
    }

    pub fn name(&self) -> &'t str {
        self.tree.range_str(&self.data().name)
    }

    /// The element's own text (not its children's), exactly as decoded.
    pub fn text(&self) -> &'t str {
        self.tree.range_str(&self.data().text)
    }

    /// The value of attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&'t str> {
        let range = &self.data().attributes;
        self.tree.attributes[range.start as usize..range.end as usize]
            .iter()
            .find(|(key, _)| self.tree.range_str(key) == name)
            .map(|(_, value)| self.tree.range_str(value))
    }

    /// Child elements in document order.
    pub fn children(&self) -> Children<'t> {
        Children {
            tree: self.tree,
            next: self.data().first_child,
        }
    }

    /// The first child element called `name`.
    pub fn child(&self, name: &str) -> Option<Node<'t>> {
        self.children().find(|child| child.name() == name)
    }

    /// The text of the first child element called `name`.
    pub fn child_text(&self, name: &str) -> Option<&'t str> {
        self.child(name).map(|child| child.text())
    }

    /// The children called `item` of the first child called `list`: `<list><item/>…</list>`.
    pub fn list(&self, list: &str, item: &'t str) -> impl Iterator<Item = Node<'t>> + use<'t> {
        self.child(list)
            .into_iter()
            .flat_map(move |list| list.children().filter(move |child| child.name() == item))
    }
}

/// Iterator over an element's children.
pub struct Children<'t> {
    tree: &'t Tree,
    next: u32,
}

impl<'t> Iterator for Children<'t> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        if self.next == NONE {
            return None;
        }
        let node = Node {
            tree: self.tree,
            index: self.next,
        };
        self.next = node.data().next_sibling;
        Some(node)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Reads the first element of `xml` into a tree.
    pub(crate) fn tree_of(xml: &str) -> Result<Tree, TreeError> {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().expand_empty_elements = true;
        reader.config_mut().check_end_names = false;
        loop {
            match reader.read_event()? {
                Event::Start(start) => {
                    let start = start.into_owned();
                    let mut tree = Tree::default();
                    tree.read(&mut reader, &start)?;
                    return Ok(tree);
                }
                Event::Eof => panic!("no element in {xml}"),
                _ => {}
            }
        }
    }

    #[test]
    fn text_is_decoded_exactly() {
        let tree = tree_of("<a><b>Speak &amp; Spell&#13;\n &lt;x&gt; &#x263A;\r\n</b><c><![CDATA[<raw> & ]]></c><d> </d></a>").unwrap();
        let root = tree.root();
        assert_eq!(root.child_text("b"), Some("Speak & Spell\r\n <x> ☺\n"));
        assert_eq!(root.child_text("c"), Some("<raw> & "));
        assert_eq!(root.child_text("d"), Some(" "), "whitespace is kept");
    }

    #[test]
    fn attribute_whitespace_reads_as_spaces_but_references_stay() {
        let tree = tree_of("<a d=\"two\nlines\r\nand\ta&#10;b&#13;c&#9;d\"/>").unwrap();
        assert_eq!(tree.root().attr("d"), Some("two lines and a\nb\rc\td"));
    }

    #[test]
    fn attributes_children_and_lists() {
        let tree =
            tree_of(r#"<r id="7" n="a&amp;b"><l><i id="1">x</i><j/><i>y</i></l><e/></r>"#).unwrap();
        let root = tree.root();
        assert_eq!(root.attr("id"), Some("7"));
        assert_eq!(root.attr("n"), Some("a&b"));
        assert_eq!(root.attr("missing"), None);
        let items: Vec<_> = root
            .list("l", "i")
            .map(|i| (i.attr("id"), i.text()))
            .collect();
        assert_eq!(items, [(Some("1"), "x"), (None, "y")]);
        assert_eq!(root.child_text("e"), Some(""));
        assert_eq!(
            root.children().map(|c| c.name()).collect::<Vec<_>>(),
            ["l", "e"]
        );
    }

    #[test]
    fn mixed_content_keeps_text_contiguous() {
        let tree = tree_of("<a>one<b>inner</b>two</a>").unwrap();
        assert_eq!(tree.root().text(), "onetwo");
        assert_eq!(tree.root().child_text("b"), Some("inner"));
    }

    #[test]
    fn unknown_entities_are_kept_as_written() {
        let tree = tree_of("<a>x&nbsp;y</a>").unwrap();
        assert_eq!(tree.root().text(), "x&nbsp;y");
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(matches!(
            tree_of("<a><b></c></a>"),
            Err(TreeError::MismatchedEnd { .. })
        ));
        assert!(
            matches!(tree_of("<a><b>text"), Err(TreeError::UnexpectedEof(name)) if name == "b")
        );
        let deep = "<a>".repeat(100);
        assert!(matches!(tree_of(&deep), Err(TreeError::TooDeep)));
    }
}
