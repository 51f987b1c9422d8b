//! Full-text search over every ticket: title, content, address, the answer and the unit's
//! reply, in Chinese, with filters (state, category, division, unit, channel, date), best
//! first. The index lives in a folder (or in memory) and is fed from the ticket events by
//! the application; it remembers how far it has read in its own commits.

use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;

use mashangban_domain::Ticket;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::{
    BIGRAMS, BigramTokenizer, ChineseTokenizer, Result, SearchError, TOKENIZER, bigrams,
    query_words,
};

/// A word found in the title weighs this much more than one in the rest of the text.
const TITLE_BOOST: f32 = 2.0;
/// Memory the index writer may buffer before it writes a segment.
const WRITER_MEMORY: usize = 64_000_000;

/// What is looked for. Every filter narrows; the text is required.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub text: String,
    /// Any of these states (none: every state).
    pub states: Vec<String>,
    /// This category or one under it (code prefix).
    pub category: Option<String>,
    /// This division or one under it (code prefix).
    pub division: Option<String>,
    /// Tickets any of these units leads or helps with (none: every ticket).
    pub units: Vec<i64>,
    pub channel: Option<String>,
    /// Received at or after (Unix seconds).
    pub from: Option<i64>,
    /// Received before (Unix seconds).
    pub to: Option<i64>,
    pub limit: usize,
    pub offset: usize,
}

/// A ticket found.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketHit {
    pub id: i64,
    /// BM25 relevance (higher is better; not bounded).
    pub score: f32,
}

/// One page of hits, and how many there are in all.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketHits {
    pub hits: Vec<TicketHit>,
    pub total: usize,
    /// Every word was found (`true`), or, none having all of them, some were.
    pub all_words: bool,
    /// The words looked for.
    pub words: Vec<String>,
}

struct Fields {
    id: Field,
    version: Field,
    number: Field,
    title: Field,
    grams: Field,
    state: Field,
    category: Field,
    division: Field,
    unit: Field,
    channel: Field,
    created: Field,
}

/// The tickets' search index.
pub struct TicketIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
}

/// Enough of a word's overlapping bigrams to cover each of its characters (`道路破损` →
/// `道路`, `破损`; `路灯坏` → `路灯`, `灯坏`): without positions, the bigrams in between add
/// little and cost a posting list each.
fn cover(grams: &[String]) -> Vec<String> {
    let n = grams.len();
    if n <= 2 {
        return grams.to_vec();
    }
    let mut out: Vec<String> = grams.iter().step_by(2).cloned().collect();
    if n.is_multiple_of(2) {
        out.push(grams[n - 1].clone());
    }
    out
}

/// Every prefix of a hierarchical code of at least two characters (`010103` → `01`, `010`,
/// `0101`, `01010`, `010103`): a filter on any level is one term.
fn prefixes(code: &str) -> impl Iterator<Item = &str> {
    (2..=code.len())
        .filter(|n| code.is_char_boundary(*n))
        .map(move |n| &code[..n])
}

impl TicketIndex {
    /// Opens the index in `dir` (created if missing), or a new one in memory.
    pub fn open(dir: Option<&Path>) -> Result<TicketIndex> {
        let mut sb = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let f = Fields {
            id: sb.add_i64_field("id", INDEXED | STORED),
            version: sb.add_i64_field("version", STORED),
            number: sb.add_text_field("number", STRING),
            title: sb.add_text_field("title", text),
            grams: sb.add_text_field(
                "grams",
                TextOptions::default().set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer(BIGRAMS)
                        .set_index_option(IndexRecordOption::WithFreqs),
                ),
            ),
            state: sb.add_text_field("state", STRING),
            category: sb.add_text_field("category", STRING),
            division: sb.add_text_field("division", STRING),
            unit: sb.add_i64_field("unit", INDEXED),
            channel: sb.add_text_field("channel", STRING),
            created: sb.add_i64_field("created", INDEXED | FAST),
        };
        let schema = sb.build();
        let index = match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let open_dir = || {
                    tantivy::directory::MmapDirectory::open(dir)
                        .map_err(|e| SearchError::Other(e.to_string()))
                };
                let d = open_dir()?;
                if Index::exists(&d).map_err(|e| SearchError::Other(e.to_string()))?
                    && Index::open(d)?.schema() != schema
                {
                    // Made by another version: the index is derived from the events, so it
                    // starts over (watermark 0) and the feed fills it again.
                    std::fs::remove_dir_all(dir)?;
                    std::fs::create_dir_all(dir)?;
                }
                Index::open_or_create(open_dir()?, schema)?
            }
            None => Index::create_in_ram(schema),
        };
        index.tokenizers().register(TOKENIZER, ChineseTokenizer);
        index.tokenizers().register(BIGRAMS, BigramTokenizer);
        let writer = index.writer_with_num_threads::<TantivyDocument>(1, WRITER_MEMORY)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(TicketIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            f,
        })
    }

    /// How far the feed has read (the last event id indexed), as the last commit says.
    pub fn watermark(&self) -> Result<i64> {
        Ok(self
            .index
            .load_metas()?
            .payload
            .and_then(|p| p.parse().ok())
            .unwrap_or(0))
    }

    fn document(&self, t: &Ticket) -> TantivyDocument {
        let f = &self.f;
        let mut doc = TantivyDocument::default();
        doc.add_i64(f.id, t.id);
        doc.add_i64(f.version, t.version);
        doc.add_text(f.number, &t.number);
        doc.add_text(f.title, &t.title);
        doc.add_text(f.grams, &t.title);
        for part in [
            Some(t.content.as_str()),
            t.address.as_deref(),
            t.answer.as_deref(),
            t.reply.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            doc.add_text(f.grams, part);
        }
        doc.add_text(f.state, t.state.as_str());
        for code in t.category_code.iter().flat_map(|c| prefixes(c)) {
            doc.add_text(f.category, code);
        }
        for code in t.division_code.iter().flat_map(|c| prefixes(c)) {
            doc.add_text(f.division, code);
        }
        // Every unit whose handlers may read it: lead, co-units, the levels of the chain.
        for u in t.units() {
            doc.add_i64(f.unit, u);
        }
        doc.add_text(f.channel, t.channel.as_str());
        doc.add_i64(f.created, t.created_at.timestamp());
        doc
    }

    /// Puts the tickets in the index as they are now (replacing what it had of them) and
    /// records that the feed has read up to event `watermark`; visible to searches at once.
    pub fn put(&self, tickets: &[Ticket], watermark: i64) -> Result<()> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| SearchError::Other("index writer poisoned".into()))?;
        for t in tickets {
            writer.delete_term(Term::from_field_i64(self.f.id, t.id));
            writer.add_document(self.document(t))?;
        }
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&watermark.to_string());
        commit.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Empties the index (for a rebuild from the first event).
    pub fn clear(&self) -> Result<()> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| SearchError::Other("index writer poisoned".into()))?;
        writer.delete_all_documents()?;
        let mut commit = writer.prepare_commit()?;
        commit.set_payload("0");
        commit.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Tickets in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The version of each ticket as the index has it (for tickets the feed may see twice).
    pub fn versions(&self, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
        let searcher = self.reader.searcher();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let q = TermQuery::new(
                Term::from_field_i64(self.f.id, *id),
                IndexRecordOption::Basic,
            );
            if let Some((_, address)) = searcher
                .search(&q, &TopDocs::with_limit(1).order_by_score())?
                .into_iter()
                .next()
            {
                let doc: TantivyDocument = searcher.doc(address)?;
                if let Some(v) = doc.get_first(self.f.version).and_then(|v| v.as_i64()) {
                    out.push((*id, v));
                }
            }
        }
        Ok(out)
    }

    /// The tickets matching the query, best first: all the text's words if any ticket has
    /// them all, else those with the most of them. A ticket number finds its ticket.
    pub fn search(&self, q: &TicketQuery) -> Result<TicketHits> {
        let f = &self.f;
        let words = query_words(&q.text);
        let number = q.text.trim();
        let mut filters: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let term = |field: Field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let any_of = |qs: Vec<Box<dyn Query>>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                qs.into_iter().map(|q| (Occur::Should, q)).collect(),
            ))
        };
        if !q.states.is_empty() {
            filters.push((
                Occur::Must,
                any_of(q.states.iter().map(|s| term(f.state, s)).collect()),
            ));
        }
        if let Some(c) = &q.category {
            filters.push((Occur::Must, term(f.category, c)));
        }
        if let Some(d) = &q.division {
            filters.push((Occur::Must, term(f.division, d)));
        }
        if let Some(c) = &q.channel {
            filters.push((Occur::Must, term(f.channel, c)));
        }
        if !q.units.is_empty() {
            filters.push((
                Occur::Must,
                any_of(
                    q.units
                        .iter()
                        .map(|u| -> Box<dyn Query> {
                            Box::new(TermQuery::new(
                                Term::from_field_i64(f.unit, *u),
                                IndexRecordOption::Basic,
                            ))
                        })
                        .collect(),
                ),
            ));
        }
        if q.from.is_some() || q.to.is_some() {
            let bound = |v: Option<i64>, inclusive: bool| match v {
                Some(v) if inclusive => Bound::Included(Term::from_field_i64(f.created, v)),
                Some(v) => Bound::Excluded(Term::from_field_i64(f.created, v)),
                None => Bound::Unbounded,
            };
            filters.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(q.from, true), bound(q.to, false))),
            ));
        }
        // A word is found as the grams it is made of (whatever the segmentation of the
        // ticket made of it); a word the title has as a word weighs more.
        let gram = |g: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f.grams, g),
                IndexRecordOption::WithFreqs,
            ))
        };
        let word_grams = |w: &str| -> Vec<String> { cover(&bigrams(w)) };
        let title_boosts = || -> Vec<(Occur, Box<dyn Query>)> {
            words
                .iter()
                .map(|w| {
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(TermQuery::new(
                                Term::from_field_text(f.title, w),
                                IndexRecordOption::WithFreqs,
                            )),
                            TITLE_BOOST,
                        )) as Box<dyn Query>,
                    )
                })
                .collect()
        };
        // Ticket numbers are letters and digits, at least six.
        let as_number = (number.len() >= 6
            && number.chars().all(|c| c.is_ascii_alphanumeric())
            && number.chars().any(|c| c.is_ascii_digit()))
        .then_some(number);
        let run = |all_words: bool| -> Result<(Vec<TicketHit>, usize)> {
            let mut text: Vec<(Occur, Box<dyn Query>)> = if all_words {
                // Every gram of every word, in one intersection.
                let mut grams: Vec<String> = words.iter().flat_map(|w| word_grams(w)).collect();
                grams.sort();
                grams.dedup();
                grams.iter().map(|g| (Occur::Must, gram(g))).collect()
            } else {
                // Any word (each with all its grams).
                words
                    .iter()
                    .map(|w| {
                        let all: Vec<(Occur, Box<dyn Query>)> = word_grams(w)
                            .iter()
                            .map(|g| (Occur::Must, gram(g)))
                            .collect();
                        (
                            Occur::Should,
                            Box::new(BooleanQuery::new(all)) as Box<dyn Query>,
                        )
                    })
                    .collect()
            };
            if text.is_empty() && as_number.is_none() {
                return Ok((Vec::new(), 0));
            }
            if !text.is_empty() {
                text.extend(title_boosts());
            }
            if let Some(n) = as_number {
                // The whole text as a ticket number, as an alternative to its words.
                text = vec![
                    (
                        Occur::Should,
                        Box::new(BooleanQuery::new(text)) as Box<dyn Query>,
                    ),
                    (
                        Occur::Should,
                        Box::new(BoostQuery::new(term(f.number, n), 100.0)),
                    ),
                ];
            }
            let mut all = filters
                .iter()
                .map(|(o, q)| (*o, q.box_clone()))
                .collect::<Vec<_>>();
            all.push((Occur::Must, Box::new(BooleanQuery::new(text))));
            let query = BooleanQuery::new(all);
            let searcher = self.reader.searcher();
            let limit = q.limit.max(1);
            let (top, total) = searcher.search(
                &query,
                &(
                    TopDocs::with_limit(limit)
                        .and_offset(q.offset)
                        .order_by_score(),
                    Count,
                ),
            )?;
            let mut hits = Vec::with_capacity(top.len());
            for (score, address) in top {
                let doc: TantivyDocument = searcher.doc(address)?;
                if let Some(id) = doc.get_first(f.id).and_then(|v| v.as_i64()) {
                    hits.push(TicketHit { id, score });
                }
            }
            Ok((hits, total))
        };
        if words.is_empty() && number.is_empty() {
            return Ok(TicketHits {
                hits: Vec::new(),
                total: 0,
                all_words: true,
                words,
            });
        }
        let (hits, total) = run(true)?;
        if total > 0 || words.len() < 2 {
            return Ok(TicketHits {
                hits,
                total,
                all_words: true,
                words,
            });
        }
        let (hits, total) = run(false)?;
        Ok(TicketHits {
            hits,
            total,
            all_words: false,
            words,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use mashangban_domain::{Actor, Channel, Citizen, Event, EventKind, Kind, Role, TicketState};

    fn ticket(id: i64, title: &str, content: &str) -> Ticket {
        let e = Event {
            ticket_id: id,
            seq: 1,
            at: Utc.with_ymd_and_hms(2026, 11, 1, 2, 0, 0).unwrap(),
            actor: Actor {
                user_id: 1,
                role: Role::Operator,
                unit_id: None,
            },
            kind: EventKind::Received {
                number: format!("MB2026{id:06}"),
                tracking_code: "x".into(),
                channel: Channel::PHONE,
                channel_detail: None,
                recording: None,
                kind: Kind::Complaint,
                title: title.into(),
                content: content.into(),
                citizen: Citizen::default(),
                confidential: false,
                address: None,
                category_code: None,
                division_code: None,
                suggested_category_code: None,
                reported_by_unit_id: None,
                place: None,
                emergency: None,
                exchange: None,
            },
        };
        mashangban_domain::apply(None, &e).expect("a ticket")
    }

    fn q(text: &str) -> TicketQuery {
        TicketQuery {
            text: text.into(),
            limit: 10,
            ..Default::default()
        }
    }

    fn ids(h: &TicketHits) -> Vec<i64> {
        h.hits.iter().map(|h| h.id).collect()
    }

    fn index() -> TicketIndex {
        let ix = TicketIndex::open(None).unwrap();
        let mut a = ticket(1, "路灯不亮", "东关大街小区门口路灯坏了好几天");
        a.category_code = Some("010103".into());
        a.division_code = Some("630102001001".into());
        a.lead_unit_id = Some(7);
        let mut b = ticket(2, "噪音扰民", "楼上装修电钻声音太吵，晚上十点还在施工");
        b.state = TicketState::Dispatched;
        b.co_unit_ids = vec![8];
        b.reply = Some("已联系物业，责令停止夜间施工".into());
        b.created_at = Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap();
        let c = ticket(3, "垃圾清运", "小区垃圾桶满了没人清运，路灯也不亮");
        ix.put(&[a, b, c], 42).unwrap();
        ix
    }

    #[test]
    fn finds_by_words_in_title_content_and_reply_best_first() {
        let ix = index();
        assert_eq!(ix.len(), 3);
        assert_eq!(ix.watermark().unwrap(), 42);
        let h = ix.search(&q("路灯")).unwrap();
        assert_eq!(ids(&h), vec![1, 3], "the title weighs more");
        assert_eq!(h.total, 2);
        assert!(h.all_words);
        // The unit's reply is searched too.
        assert_eq!(ids(&ix.search(&q("物业")).unwrap()), vec![2]);
        // All words when some ticket has them all...
        assert_eq!(ids(&ix.search(&q("路灯 垃圾")).unwrap()), vec![3]);
        // ...else those with some.
        let h = ix.search(&q("路灯 火星")).unwrap();
        assert!(!h.all_words);
        assert_eq!(h.total, 2);
        assert!(ix.search(&q("火星")).unwrap().hits.is_empty());
        // A ticket number finds its ticket.
        assert_eq!(ids(&ix.search(&q("MB2026000002")).unwrap()), vec![2]);
        assert!(ix.search(&q("，")).unwrap().hits.is_empty());
    }

    #[test]
    fn filters_narrow() {
        let ix = index();
        let with = |f: &dyn Fn(&mut TicketQuery)| {
            let mut query = q("路灯 施工 垃圾");
            f(&mut query);
            let mut v = ids(&ix.search(&query).unwrap());
            v.sort();
            v
        };
        assert_eq!(with(&|_| {}), vec![1, 2, 3]);
        assert_eq!(with(&|q| q.category = Some("0101".into())), vec![1]);
        assert_eq!(with(&|q| q.division = Some("630102".into())), vec![1]);
        assert_eq!(with(&|q| q.states = vec!["dispatched".into()]), vec![2]);
        assert_eq!(with(&|q| q.units = vec![8]), vec![2], "co-units count");
        assert_eq!(with(&|q| q.units = vec![7, 8]), vec![1, 2]);
        assert_eq!(with(&|q| q.channel = Some("web".into())), Vec::<i64>::new());
        let nov15 = Utc
            .with_ymd_and_hms(2026, 11, 15, 0, 0, 0)
            .unwrap()
            .timestamp();
        assert_eq!(with(&|q| q.from = Some(nov15)), vec![2]);
        assert_eq!(with(&|q| q.to = Some(nov15)), vec![1, 3]);
    }

    #[test]
    fn a_changed_ticket_replaces_its_old_self_and_pages_hold() {
        let ix = index();
        let mut a = ticket(1, "路灯已修好", "回访确认");
        a.version = 5;
        ix.put(&[a], 50).unwrap();
        assert_eq!(ix.len(), 3);
        assert_eq!(ix.versions(&[1, 2, 99]).unwrap(), vec![(1, 5), (2, 1)]);
        assert_eq!(ix.watermark().unwrap(), 50);
        assert!(ix.search(&q("东关")).unwrap().hits.is_empty());
        let mut page = q("路灯");
        page.limit = 1;
        page.offset = 1;
        let h = ix.search(&page).unwrap();
        assert_eq!(h.total, 2);
        assert_eq!(h.hits.len(), 1);
        ix.clear().unwrap();
        assert!(ix.is_empty());
        assert_eq!(ix.watermark().unwrap(), 0);
    }

    #[test]
    fn a_cover_keeps_every_character() {
        let g = |w: &str| cover(&bigrams(w));
        assert_eq!(g("路灯"), vec!["路灯"]);
        assert_eq!(g("路灯坏"), vec!["路灯", "灯坏"]);
        assert_eq!(g("道路破损"), vec!["道路", "破损"]);
        assert_eq!(g("道路破损了"), vec!["道路", "破损", "损了"]);
        assert_eq!(g("mb2026"), vec!["mb2026"]);
    }

    #[test]
    fn prefixes_of_codes() {
        assert_eq!(
            prefixes("010103").collect::<Vec<_>>(),
            vec!["01", "010", "0101", "01010", "010103"]
        );
        assert_eq!(prefixes("1").count(), 0);
    }

    #[test]
    fn a_folder_index_keeps_its_tickets_and_watermark() {
        let dir = std::env::temp_dir().join(format!("mb-search-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let ix = TicketIndex::open(Some(&dir)).unwrap();
            ix.put(&[ticket(9, "路灯不亮", "坏了")], 77).unwrap();
            assert_eq!(ids(&ix.search(&q("路灯")).unwrap()), vec![9]);
        }
        let ix = TicketIndex::open(Some(&dir)).unwrap();
        assert_eq!(ix.watermark().unwrap(), 77);
        assert_eq!(ix.len(), 1);
        assert_eq!(ids(&ix.search(&q("路灯")).unwrap()), vec![9]);
        drop(ix);
        // An index another version made (another schema) starts over, empty.
        std::fs::remove_dir_all(&dir).unwrap();
        {
            let mut sb = Schema::builder();
            sb.add_i64_field("id", INDEXED | STORED);
            let d = tantivy::directory::MmapDirectory::open({
                std::fs::create_dir_all(&dir).unwrap();
                &dir
            })
            .unwrap();
            let other = Index::create(d, sb.build(), tantivy::IndexSettings::default()).unwrap();
            let mut w = other
                .writer_with_num_threads::<TantivyDocument>(1, 15_000_000)
                .unwrap();
            let mut c = w.prepare_commit().unwrap();
            c.set_payload("99");
            c.commit().unwrap();
        }
        let ix = TicketIndex::open(Some(&dir)).unwrap();
        assert_eq!(ix.watermark().unwrap(), 0);
        assert!(ix.is_empty());
        drop(ix);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
