//! The inbox dataset: a workspace with many conversations, generated with realistic shapes and
//! bulk-loaded (`charla_store::sql::bulk`), then kept in the bench data folder and reused.
//!
//! Shapes (deterministic from a fixed seed):
//! - operators: one admin and N agents (10% with `see_all_conversations`), in 10 teams; 8
//!   channels (2 website, 2 WhatsApp, Telegram, Instagram, e-mail, API), each agent a member
//!   of two; 30 tags with Zipf-like popularity (40% of contacts untagged), 3 pinned.
//! - contacts: one per conversation, names from common first names and surnames, phones in
//!   mixed national and international formats (70%), e-mails (50%), Telegram usernames.
//! - conversations: 96% closed, 3% open, 1% snoozed; open ones recent, 40% of them unanswered
//!   (30% of those unassigned); closed ones spread over a year.
//! - messages: on average `messages / conversations` per conversation (geometric), except
//!   `long` conversations of exactly 1,000 messages; customers and operators alternate, a few
//!   notes; each attention ends with a "Closed" line; text from sentence templates with order
//!   numbers, cities and product names of Zipf-like frequency (what full-text search finds).
//! - attentions: one per ~12 messages; first response after a log-normal delay (median ~2
//!   min); a quarter of the closed ones rated (70% satisfied, 20% neutral, 10% dissatisfied).

use crate::Backend;
use crate::StoreKind;
use anyhow::{Context, bail};
use charla_core::*;
use charla_store::sql::bulk::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Bumped whenever the generated data changes shape: older datasets are generated again.
pub const GENERATOR_VERSION: u32 = 5;
const SEED: u64 = 0x00c4_a71a;
const WORKSPACE: Id = 1;
/// Conversations generated (and loaded) at a time.
const CHUNK: usize = 20_000;
const DAY: Millis = 24 * 60 * 60 * 1000;
const MIN: Millis = 60 * 1000;
/// Password of every generated operator.
pub const OPERATOR_PASSWORD: &str = "bench-operator-password";
/// Messages of the long conversations ("opening a conversation with 1,000 messages").
pub const LONG_LEN: u64 = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    pub conversations: u64,
    pub messages: u64,
    pub operators: u64,
    pub long_conversations: u64,
}

/// What the scenarios need to know about a generated dataset; kept next to it as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Facts {
    pub version: u32,
    pub spec: Spec,
    /// The store's URL.
    pub url: String,
    /// The dataset's "now": the reference for the report period.
    pub now: Millis,
    pub admin_email: String,
    /// A sample of agents (all with [`OPERATOR_PASSWORD`]); the first ones see all.
    pub agent_emails: Vec<String>,
    pub channel_ids: Vec<Id>,
    /// Tags of middling popularity, for filters.
    pub filter_tag_ids: Vec<Id>,
    pub long_conversation_ids: Vec<Id>,
    /// Substrings of contacts' names (4 to 6 characters) and phone digits.
    pub contact_terms: Vec<String>,
    /// Words of middling frequency in message text.
    pub fulltext_terms: Vec<String>,
    pub generated_secs: f64,
}

const FIRST_NAMES: &[&str] = &[
    "María",
    "Carmen",
    "Ana",
    "Laura",
    "Lucía",
    "Marta",
    "Elena",
    "Sofía",
    "Paula",
    "Julia",
    "Sara",
    "Cristina",
    "Isabel",
    "Pilar",
    "Rosa",
    "Teresa",
    "Alba",
    "Irene",
    "Nuria",
    "Raquel",
    "Antonio",
    "José",
    "Manuel",
    "Francisco",
    "David",
    "Juan",
    "Javier",
    "Daniel",
    "Carlos",
    "Jesús",
    "Alejandro",
    "Miguel",
    "Rafael",
    "Pedro",
    "Pablo",
    "Ángel",
    "Sergio",
    "Fernando",
    "Jorge",
    "Luis",
    "Alberto",
    "Álvaro",
    "Diego",
    "Adrián",
    "Raúl",
    "Enrique",
    "Ramón",
    "Vicente",
    "Iván",
    "Rubén",
    "Óscar",
    "Andrés",
    "Joaquín",
    "Santiago",
    "Eduardo",
    "Víctor",
    "Roberto",
    "Jaime",
    "Mario",
    "Ignacio",
    "Alfonso",
    "Salvador",
    "Ricardo",
    "Marcos",
    "Jordi",
    "Emilio",
    "Julián",
    "Guillermo",
    "Gabriel",
    "Tomás",
    "Agustín",
    "Marc",
    "Gonzalo",
    "Félix",
    "Hugo",
    "Mateo",
    "John",
    "Mary",
    "James",
    "Emma",
    "Oliver",
    "Olivia",
    "William",
    "Sophia",
    "Liam",
    "Ava",
    "Noah",
    "Mia",
    "Ethan",
    "Chloe",
    "Lucas",
    "Grace",
    "Olga",
    "Irina",
    "Anna",
    "Natalia",
    "Tatiana",
    "Svetlana",
    "Elena",
    "Dmitri",
    "Sergei",
    "Alexei",
    "Ivan",
    "Mikhail",
    "Nikolai",
    "Andrei",
    "Pavel",
    "Yuri",
    "Giulia",
    "Marco",
    "Chiara",
    "Luca",
    "Camille",
    "Louis",
    "Léa",
    "Jules",
    "Ana Paula",
    "João",
    "Beatriz",
    "Thiago",
    "Fatima",
    "Youssef",
    "Aisha",
    "Omar",
    "Wei",
    "Mei",
    "Hiroshi",
];

const SURNAMES: &[&str] = &[
    "García",
    "Rodríguez",
    "González",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Alonso",
    "Gutiérrez",
    "Navarro",
    "Torres",
    "Domínguez",
    "Vázquez",
    "Ramos",
    "Gil",
    "Ramírez",
    "Serrano",
    "Blanco",
    "Molina",
    "Morales",
    "Suárez",
    "Ortega",
    "Delgado",
    "Castro",
    "Ortiz",
    "Rubio",
    "Marín",
    "Sanz",
    "Núñez",
    "Iglesias",
    "Medina",
    "Garrido",
    "Cortés",
    "Castillo",
    "Santos",
    "Lozano",
    "Guerrero",
    "Cano",
    "Prieto",
    "Méndez",
    "Cruz",
    "Calvo",
    "Gallego",
    "Vidal",
    "León",
    "Márquez",
    "Herrera",
    "Peña",
    "Flores",
    "Cabrera",
    "Campos",
    "Vega",
    "Fuentes",
    "Carrasco",
    "Diez",
    "Caballero",
    "Reyes",
    "Nieto",
    "Aguilar",
    "Pascual",
    "Santana",
    "Herrero",
    "Lorenzo",
    "Montero",
    "Hidalgo",
    "Giménez",
    "Ibáñez",
    "Ferrer",
    "Durán",
    "Santiago",
    "Benítez",
    "Mora",
    "Vicente",
    "Vargas",
    "Arias",
    "Carmona",
    "Crespo",
    "Román",
    "Pastor",
    "Soto",
    "Sáez",
    "Velasco",
    "Moya",
    "Soler",
    "Parra",
    "Esteban",
    "Bravo",
    "Gallardo",
    "Rojas",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Ivanov",
    "Smirnov",
    "Kuznetsov",
    "Popov",
    "Vasiliev",
    "Petrov",
    "Sokolov",
    "Mikhailov",
    "Novikov",
    "Fedorov",
    "Morozov",
    "Volkov",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Costa",
    "Pereira",
    "Almeida",
    "Nakamura",
    "Tanaka",
    "Wang",
    "Li",
    "Zhang",
    "Chen",
    "Müller",
    "Schmidt",
];

const CITIES: &[&str] = &[
    "Madrid",
    "Barcelona",
    "Valencia",
    "Sevilla",
    "Zaragoza",
    "Málaga",
    "Murcia",
    "Palma",
    "Bilbao",
    "Alicante",
    "Córdoba",
    "Valladolid",
    "Vigo",
    "Gijón",
    "Granada",
    "Canarias",
    "Tenerife",
    "Lisboa",
    "Porto",
    "Buenos Aires",
    "México",
    "Bogotá",
    "Lima",
    "Santiago",
    "Moscú",
    "London",
    "Paris",
    "Berlin",
    "Roma",
    "Milano",
];

const TEMPLATES_IN: &[&str] = &[
    "Hola, quería saber si el {p} está disponible en {c}",
    "Hola! ¿Tenéis envío a {c}?",
    "Mi pedido #{o} todavía no ha llegado, ¿podéis revisarlo?",
    "Buenas tardes, el {p} que compré no funciona bien",
    "¿Cuánto cuesta el envío del {p} a {c}?",
    "Quiero devolver el pedido #{o}, ¿cómo lo hago?",
    "Gracias!",
    "Ok, perfecto",
    "¿Me podéis enviar la factura del pedido #{o}?",
    "Hi, my order #{o} hasn't arrived yet",
    "Do you ship the {p} to {c}?",
    "The {p} stopped working after two days",
    "Can I change the delivery address for order #{o}?",
    "Thanks a lot!",
    "Здравствуйте, когда будет доставка заказа #{o}?",
    "Есть ли {p} в наличии?",
    "Спасибо!",
    "¿El {p} tiene garantía?",
    "Necesito cambiar la talla del {p}",
    "Sí, el número de pedido es #{o}",
];

const TEMPLATES_OUT: &[&str] = &[
    "¡Hola {n}! Sí, enviamos a {c}.",
    "Lo reviso ahora mismo, un momento por favor.",
    "Tu pedido #{o} sale hoy desde nuestro almacén.",
    "El {p} tiene dos años de garantía.",
    "Te he enviado la factura por correo.",
    "Hi {n}, I'm checking order #{o} for you.",
    "The {p} is in stock, it ships tomorrow.",
    "Sorry for the delay, your refund is on its way.",
    "Здравствуйте, {n}! Заказ #{o} уже в пути.",
    "¿Hay algo más en lo que pueda ayudarte?",
    "Perfecto, lo cambiamos sin coste.",
    "Gracias a ti, {n}. ¡Que tengas un buen día!",
];

const COMMENTS: &[&str] =
    &["Muy rápido, gracias", "Great service", "Tardaron bastante", "Todo bien", "Спасибо, быстро!", "Could be faster"];

/// Pseudo-words for products ("korvali", "tenumo"...): rank r is used with weight ~1/(r+10).
fn product_names() -> Vec<String> {
    let syl = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "be", "do", "fa", "gu", "pi", "se", "to", "xa"];
    let mut names = Vec::with_capacity(2000);
    for a in 0..syl.len() {
        for b in 0..syl.len() {
            for c in 0..8 {
                names
                    .push(format!("{}{}{}", syl[a], syl[b], syl[(a * 3 + b * 5 + c) % syl.len()]).replace("xa", "xan"));
                if names.len() == 2000 {
                    return names;
                }
            }
        }
    }
    names
}

/// Zipf-like pick of an index below `n` (rank r has weight ~1/(r + 10)).
fn zipf(rng: &mut StdRng, n: usize) -> usize {
    // Inverse of the cumulative of 1/(x + 10) over [0, n).
    let (a, b) = (10f64.ln(), (n as f64 + 10.0).ln());
    let u: f64 = rng.random();
    ((a + u * (b - a)).exp() - 10.0).clamp(0.0, n as f64 - 1.0) as usize
}

fn phone(rng: &mut StdRng) -> String {
    let d =
        |rng: &mut StdRng, n: usize| (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect::<String>();
    match rng.random_range(0..6) {
        0 => format!("+34 6{} {} {}", d(rng, 2), d(rng, 3), d(rng, 3)),
        1 => format!("6{}{}", d(rng, 2), d(rng, 6)),
        2 => format!("+1 ({}) {}-{}", d(rng, 3), d(rng, 3), d(rng, 4)),
        3 => format!("8 (9{}) {}-{}-{}", d(rng, 2), d(rng, 3), d(rng, 2), d(rng, 2)),
        4 => format!("+7 9{} {} {} {}", d(rng, 2), d(rng, 3), d(rng, 2), d(rng, 2)),
        _ => format!("+52-55-{}-{}", d(rng, 4), d(rng, 4)),
    }
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'Á' => 'a',
            'é' | 'É' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'Ó' => 'o',
            'ú' | 'Ú' | 'ü' => 'u',
            'ñ' => 'n',
            ' ' => '.',
            c => c.to_ascii_lowercase(),
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect()
}

/// The channels: (kind, name, response time limit in seconds, share of conversations).
const CHANNELS: &[(ChannelKind, &str, i64, f64)] = &[
    (ChannelKind::Website, "Web shop", 300, 0.20),
    (ChannelKind::Website, "Help center", 900, 0.15),
    (ChannelKind::Whatsapp, "WhatsApp Spain", 900, 0.20),
    (ChannelKind::Whatsapp, "WhatsApp LatAm", 900, 0.10),
    (ChannelKind::Telegram, "Telegram", 900, 0.10),
    (ChannelKind::Instagram, "Instagram", 3600, 0.08),
    (ChannelKind::Email, "Support e-mail", 86_400, 0.10),
    (ChannelKind::Api, "CRM", 900, 0.07),
];
const TAGS: usize = 30;
const TEAMS: u64 = 10;

struct Gen {
    rng: StdRng,
    spec: Spec,
    now: Millis,
    products: Vec<String>,
    channel_ids: Vec<Id>,
    channel_limits: Vec<i64>,
    /// Members (user ids) of each channel, by index.
    members: Vec<Vec<Id>>,
    user_names: Vec<String>,
    next_message: Id,
    next_attention: Id,
    /// Messages left to hand out, and conversations left to give them to.
    messages_left: u64,
    conversations_left: u64,
    long_left: u64,
    long_ids: Vec<Id>,
}

impl Gen {
    fn text(&mut self, inbound: bool, name: &str) -> String {
        let t = if inbound {
            TEMPLATES_IN[self.rng.random_range(0..TEMPLATES_IN.len())]
        } else {
            TEMPLATES_OUT[self.rng.random_range(0..TEMPLATES_OUT.len())]
        };
        let mut s = t.to_string();
        if s.contains("{p}") {
            let p = zipf(&mut self.rng, self.products.len());
            s = s.replace("{p}", &self.products[p]);
        }
        if s.contains("{c}") {
            s = s.replace("{c}", CITIES[self.rng.random_range(0..CITIES.len())]);
        }
        if s.contains("{o}") {
            s = s.replace("{o}", &self.rng.random_range(100_000..999_999).to_string());
        }
        s.replace("{n}", name.split(' ').next().unwrap_or(name))
    }

    /// Messages of the next conversation.
    fn message_count(&mut self) -> u64 {
        if self.long_left > 0 && self.rng.random_bool((self.long_left as f64 / self.conversations_left as f64).min(1.0))
        {
            self.long_left -= 1;
            return LONG_LEN;
        }
        let others = self.conversations_left - self.long_left;
        let budget = self.messages_left.saturating_sub(self.long_left * LONG_LEN);
        if others <= 1 {
            return budget.max(1);
        }
        let mean = (budget as f64 / others as f64).max(1.0);
        // Geometric with that mean (at least 1), capped.
        let p = 1.0 / mean;
        let u: f64 = self.rng.random::<f64>().max(1e-12);
        let k = 1 + (u.ln() / (1.0 - p).max(1e-9).ln()).floor() as u64;
        k.min(200).min(budget.saturating_sub(others - 1).max(1))
    }

    /// One chunk: contacts, identities, conversations, attentions and messages for ids
    /// `first..first + n`.
    fn chunk(&mut self, first: Id, n: usize) -> Chunk {
        let mut out = Chunk::default();
        let mut pending: Vec<(Millis, usize, BulkMessage)> = Vec::new();
        for i in 0..n {
            let id = first + i as Id;
            let rng = &mut self.rng;
            let first_name = FIRST_NAMES[zipf(rng, FIRST_NAMES.len())];
            let surname = SURNAMES[zipf(rng, SURNAMES.len())];
            let name = if rng.random_bool(0.3) {
                format!("{first_name} {surname} {}", SURNAMES[zipf(rng, SURNAMES.len())])
            } else {
                format!("{first_name} {surname}")
            };
            // Channel by share.
            let mut x: f64 = rng.random();
            let mut ch = 0;
            while ch + 1 < CHANNELS.len() && x >= CHANNELS[ch].3 {
                x -= CHANNELS[ch].3;
                ch += 1;
            }
            let kind = CHANNELS[ch].0;
            let phone = (kind == ChannelKind::Whatsapp || rng.random_bool(0.6)).then(|| phone(rng));
            let email = (kind == ChannelKind::Email || rng.random_bool(0.45)).then(|| {
                format!(
                    "{}{}@{}",
                    ascii_lower(&name),
                    rng.random_range(1..999),
                    ["gmail.com", "hotmail.com", "yahoo.es", "mail.ru", "empresa.es"][rng.random_range(0..5)]
                )
            });
            let telegram_username =
                (kind == ChannelKind::Telegram).then(|| format!("{}_{}", ascii_lower(first_name), id));
            let tag_count = if rng.random_bool(0.4) { 0 } else { rng.random_range(1..=3) };
            let mut tag_ids: Vec<Id> = (0..tag_count).map(|_| 1 + zipf(rng, TAGS) as Id).collect();
            tag_ids.sort_unstable();
            tag_ids.dedup();

            // State and time line.
            let roll: f64 = rng.random();
            let status = if roll < 0.03 {
                Status::Open
            } else if roll < 0.04 {
                Status::Snoozed
            } else {
                Status::Closed
            };
            let k = self.message_count();
            self.messages_left -= k;
            self.conversations_left -= 1;
            if k == LONG_LEN {
                self.long_ids.push(id);
            }
            let rng = &mut self.rng;
            let end = match status {
                Status::Closed => self.now - rng.random_range(DAY / 2..365 * DAY),
                _ => self.now - rng.random_range(MIN..2 * DAY),
            };
            let unanswered = status == Status::Open && rng.random_bool(0.4);
            let attentions = (1 + (k.saturating_sub(1)) / 12).min(k.div_ceil(2).max(1));
            let members = self.members[ch].clone();
            let assignee_of = |rng: &mut StdRng| Some(members[rng.random_range(0..members.len())]);
            // Times are relative while the line is built, then shifted so that it ends at `end`.
            let mut t: Millis = 0;
            let created_at = t;
            let (first_message, first_attention) = (pending.len(), out.attentions.len());
            let contact_id = id;
            let mut last: Option<(Id, String, AuthorType)> = None;
            let mut last_inbound_at = None;
            let mut waiting_since = None;
            let mut conv_attention = None;
            let mut conv_assignee = None;
            let mut per_attention = vec![k / attentions; attentions as usize];
            for slot in per_attention.iter_mut().take((k % attentions) as usize) {
                *slot += 1;
            }
            let mut seq = 0u64;
            for (ai, count) in per_attention.iter().enumerate() {
                let is_last = ai + 1 == per_attention.len();
                let att_status = if is_last { status } else { Status::Closed };
                let att_id = self.next_attention;
                self.next_attention += 1;
                let rng = &mut self.rng;
                let unassigned = is_last && unanswered && rng.random_bool(0.3);
                let assignee = if unassigned { None } else { assignee_of(rng) };
                let opened_at = t;
                let mut first_response_at = None;
                let closes = att_status == Status::Closed;
                // Visible messages, then the "Closed" line for closed attentions.
                let visible = if closes && *count > 1 { count - 1 } else { *count };
                let mut answered = true;
                for j in 0..visible {
                    let rng = &mut self.rng;
                    let last_of_open = is_last && !closes && j + 1 == visible;
                    let inbound = if j == 0 {
                        true
                    } else if last_of_open {
                        unanswered
                    } else {
                        j % 2 == 0 || rng.random_bool(0.1)
                    };
                    let note = !inbound && j > 0 && rng.random_bool(0.02);
                    if j > 0 {
                        t += if !inbound && first_response_at.is_none() {
                            // First response: log-normal, median ~2 min.
                            let z: f64 = (0..6).map(|_| rng.random::<f64>()).sum::<f64>() - 3.0;
                            ((120_000.0 * (1.1 * z).exp()) as i64).clamp(5_000, 6 * 60 * MIN)
                        } else {
                            rng.random_range(10_000..10 * MIN)
                        };
                    }
                    let (kind, author_type, author_id, author_name) = if inbound {
                        (MessageKind::Inbound, AuthorType::Contact, Some(contact_id), name.clone())
                    } else {
                        let uid = assignee.unwrap_or(1);
                        let uname = self.user_names[(uid - 1) as usize].clone();
                        (
                            if note { MessageKind::Note } else { MessageKind::Outbound },
                            AuthorType::User,
                            Some(uid),
                            uname,
                        )
                    };
                    if kind == MessageKind::Outbound && first_response_at.is_none() {
                        first_response_at = Some(t);
                    }
                    let text = if note {
                        "Nota interna: cliente VIP, revisar historial".to_string()
                    } else {
                        self.text(inbound, &name)
                    };
                    match kind {
                        MessageKind::Inbound => {
                            last_inbound_at = Some(t);
                            if answered {
                                waiting_since = Some(t);
                            }
                            answered = false;
                        }
                        MessageKind::Outbound => {
                            answered = true;
                            waiting_since = None;
                        }
                        _ => {}
                    }
                    let msg = BulkMessage {
                        id: 0,
                        workspace_id: WORKSPACE,
                        conversation_id: id,
                        attention_id: Some(att_id),
                        channel_id: self.channel_ids[ch],
                        kind,
                        author_type,
                        author_id,
                        author_name,
                        text: text.clone(),
                        provider_id: inbound.then(|| format!("w{id}-{seq}")),
                        status: match kind {
                            MessageKind::Inbound => MessageStatus::Delivered,
                            MessageKind::Outbound => MessageStatus::Read,
                            _ => MessageStatus::Sent,
                        },
                        created_at: t,
                    };
                    seq += 1;
                    last = Some((0, text, author_type));
                    pending.push((t, i, msg));
                }
                let mut closed_at = None;
                if closes {
                    t += rng_range(&mut self.rng, MIN, 30 * MIN);
                    closed_at = Some(t);
                    if *count > 1 {
                        let msg = BulkMessage {
                            id: 0,
                            workspace_id: WORKSPACE,
                            conversation_id: id,
                            attention_id: Some(att_id),
                            channel_id: self.channel_ids[ch],
                            kind: MessageKind::Event,
                            author_type: AuthorType::System,
                            author_id: None,
                            author_name: String::new(),
                            text: "Closed".into(),
                            provider_id: None,
                            status: MessageStatus::Sent,
                            created_at: t,
                        };
                        last = Some((0, "Closed".into(), AuthorType::System));
                        pending.push((t, i, msg));
                    }
                    waiting_since = None;
                }
                let rng = &mut self.rng;
                let rated = closes && first_response_at.is_some() && rng.random_bool(0.25);
                let rating = rated.then(|| match rng.random_range(0..10) {
                    0..=6 => Rating::Satisfied,
                    7 | 8 => Rating::Neutral,
                    _ => Rating::Dissatisfied,
                });
                out.attentions.push(BulkAttention {
                    id: att_id,
                    workspace_id: WORKSPACE,
                    conversation_id: id,
                    status: att_status,
                    assignee_id: assignee,
                    opened_at,
                    closed_at,
                    close_reason: None,
                    first_response_at,
                    rating,
                    rating_comment: (rated && rng.random_bool(0.3))
                        .then(|| COMMENTS[rng.random_range(0..COMMENTS.len())].to_string()),
                    rated_at: rated.then(|| closed_at.unwrap_or(t) + 2 * MIN),
                });
                conv_attention = Some(att_id);
                conv_assignee = assignee;
                if !is_last {
                    t += rng.random_range(DAY / 4..(300 * DAY / attentions as i64).max(DAY / 2));
                }
            }
            // Shift the whole line so that it ends at `end`.
            let shift = end - t;
            for (at, _, m) in pending[first_message..].iter_mut() {
                *at += shift;
                m.created_at += shift;
            }
            for a in out.attentions[first_attention..].iter_mut() {
                a.opened_at += shift;
                a.closed_at = a.closed_at.map(|v| v + shift);
                a.first_response_at = a.first_response_at.map(|v| v + shift);
                a.rated_at = a.rated_at.map(|v| v + shift);
            }
            let limit = self.channel_limits[ch] * 1000;
            // Unanswered while the last customer-visible message is inbound (snoozed ones too).
            let is_unanswered = status != Status::Closed && waiting_since.is_some();
            let waiting = if is_unanswered { waiting_since.map(|w| w + shift) } else { None };
            let (_, preview, author) = last.unwrap_or((0, String::new(), AuthorType::System));
            let contact_search = charla_core::search::contact_search_text(&[
                Some(name.as_str()),
                email.as_deref(),
                telegram_username.as_deref(),
            ]);
            let search_text = charla_core::search::conversation_search_text(Some(&contact_search), &name);
            let search_phone = charla_core::search::digits_of(phone.as_deref().unwrap_or(""));
            out.contacts.push(BulkContact {
                id: contact_id,
                workspace_id: WORKSPACE,
                name: name.clone(),
                phone,
                email,
                telegram_username,
                source: Some(CHANNELS[ch].1.to_string()),
                tag_ids,
                created_at: created_at + shift,
            });
            out.identities.push(BulkIdentity {
                id,
                workspace_id: WORKSPACE,
                channel_id: self.channel_ids[ch],
                external_id: format!("ext-{id}"),
                contact_id: Some(contact_id),
                name: name.clone(),
            });
            out.conversations.push(BulkConversation {
                id,
                workspace_id: WORKSPACE,
                channel_id: self.channel_ids[ch],
                identity_id: id,
                contact_id: Some(contact_id),
                status,
                attention_id: conv_attention,
                assignee_id: conv_assignee,
                team_id: None,
                snoozed_until: (status == Status::Snoozed)
                    .then(|| self.now + rng_range(&mut self.rng, 60 * MIN, 3 * DAY)),
                unanswered: is_unanswered,
                waiting_since: waiting,
                due_at: waiting.map(|w| w + limit),
                last_message_id: None,
                last_message_preview: Some(preview.chars().take(200).collect()),
                last_message_author: Some(author),
                last_inbound_at: last_inbound_at.map(|v| v + shift),
                last_activity_at: end,
                created_at: created_at + shift,
                search_text,
                search_phone,
            });
        }
        // Ids in time order across the chunk, as a live server hands them out.
        pending.sort_by_key(|(t, _, m)| (*t, m.conversation_id));
        for (_, idx, m) in pending.iter_mut() {
            m.id = self.next_message;
            self.next_message += 1;
            out.conversations[*idx].last_message_id = Some(m.id);
        }
        out.messages = pending.into_iter().map(|(_, _, m)| m).collect();
        out
    }
}

fn rng_range(rng: &mut StdRng, lo: i64, hi: i64) -> i64 {
    rng.random_range(lo..hi)
}

#[derive(Default)]
struct Chunk {
    contacts: Vec<BulkContact>,
    identities: Vec<BulkIdentity>,
    conversations: Vec<BulkConversation>,
    attentions: Vec<BulkAttention>,
    messages: Vec<BulkMessage>,
}

fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hash: {e}"))?
        .to_string())
}

/// Where a store keeps its dataset: the SQLite folder, or the facts file of the PostgreSQL one.
fn facts_path(data: &Path, kind: StoreKind) -> PathBuf {
    match kind {
        StoreKind::Sqlite => data.join("dataset-sqlite").join("dataset.json"),
        StoreKind::Postgres => data.join("dataset-postgres.json"),
    }
}

/// The dataset of `spec` for this store: reused when its facts file says it is this spec and
/// generator version (and `reuse`), else generated.
pub async fn ensure(
    backend: &mut Backend,
    data: &Path,
    spec: Spec,
    reuse: bool,
    cleanup: bool,
) -> anyhow::Result<(crate::server::Target, Facts)> {
    let path = facts_path(data, backend.kind);
    let dir = match backend.kind {
        StoreKind::Sqlite => data.join("dataset-sqlite"),
        StoreKind::Postgres => data.join("dataset-postgres-files"),
    };
    let (db_name, url) = match backend.kind {
        StoreKind::Sqlite => (None, format!("sqlite://{}", dir.join("charla.db").display())),
        StoreKind::Postgres => {
            let suffix = if cleanup { format!("_{}", std::process::id()) } else { String::new() };
            let db = format!("charla_bench_ds_{}_{}{suffix}", spec.conversations, spec.messages);
            let url = backend.pg_url(&db);
            (Some(db), url)
        }
    };
    let target = crate::server::Target {
        exe: backend.exe().to_path_buf(),
        data: dir.clone(),
        database_url: db_name.as_ref().map(|_| url.clone()),
    };
    if reuse
        && let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(facts) = serde_json::from_str::<Facts>(&text)
        && facts.version == GENERATOR_VERSION
        && facts.spec == spec
        && facts.url == url
        && backend.dataset_present(&target).await
    {
        println!(
            "inbox dataset: reusing {} ({} conversations, {} messages)",
            facts.url, spec.conversations, spec.messages
        );
        if cleanup {
            backend.forget_on_cleanup(db_name, Some(dir), Some(path));
        }
        // Bring it to the current schema now, not during a measured start.
        let store = charla_store::sql::SqlStore::open(&url, charla_store::sql::Options::default())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        charla_store::Store::shutdown(&store).await;
        return Ok((target, facts));
    }

    // Generate.
    let _ = std::fs::remove_file(&path);
    crate::server::remove_dir(&dir);
    std::fs::create_dir_all(&dir)?;
    if let Some(db) = &db_name {
        backend.recreate_database(db).await?;
    }
    if cleanup {
        backend.forget_on_cleanup(db_name.clone(), Some(dir.clone()), Some(path.clone()));
    }
    let started = Instant::now();
    println!(
        "inbox dataset: generating {} conversations, {} messages, {} operators into {url}",
        spec.conversations, spec.messages, spec.operators
    );
    let facts = generate(&url, spec).await.context("generating the dataset")?;
    let facts = Facts { generated_secs: started.elapsed().as_secs_f64(), ..facts };
    std::fs::write(&path, serde_json::to_string_pretty(&facts)?)?;
    println!("inbox dataset: generated in {:.0} s", facts.generated_secs);
    Ok((target, facts))
}

async fn generate(url: &str, spec: Spec) -> anyhow::Result<Facts> {
    if spec.conversations < 10 || spec.messages < spec.conversations + spec.long_conversations * LONG_LEN {
        bail!("the dataset needs at least 10 conversations and more messages than conversations");
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as Millis;
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut loader = BulkLoader::open(url).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let e = |e: charla_store::StoreError| anyhow::anyhow!("{e}");
    loader.workspace(WORKSPACE, "Bench Co", now - 400 * DAY).await.map_err(e)?;

    let admin_hash = hash_password(crate::ADMIN_PASSWORD)?;
    let agent_hash = hash_password(OPERATOR_PASSWORD)?;
    let mut users = vec![BulkUser {
        id: 1,
        workspace_id: WORKSPACE,
        email: crate::ADMIN_EMAIL.into(),
        name: "Bench Admin".into(),
        display_name: String::new(),
        password_hash: admin_hash,
        role: Role::Admin,
        flags: Flags::default(),
        created_at: now - 400 * DAY,
    }];
    let mut user_names = vec!["Bench Admin".to_string()];
    for i in 0..spec.operators {
        let name = format!(
            "{} {}",
            FIRST_NAMES[(i as usize * 7) % FIRST_NAMES.len()],
            SURNAMES[(i as usize * 13) % SURNAMES.len()]
        );
        let flags = if i % 10 == 0 { Flags::from_list(&[Flag::SeeAllConversations]) } else { Flags::default() };
        users.push(BulkUser {
            id: 2 + i as Id,
            workspace_id: WORKSPACE,
            email: format!("agent{}@bench.example.com", i + 1),
            name: name.clone(),
            display_name: name.split(' ').next().unwrap_or("").to_string(),
            password_hash: agent_hash.clone(),
            role: Role::Agent,
            flags,
            created_at: now - 400 * DAY,
        });
        user_names.push(name);
    }
    loader.users(&users).await.map_err(e)?;
    let agents: Vec<Id> = users.iter().skip(1).map(|u| u.id).collect();
    let teams: Vec<BulkTeam> = (0..TEAMS)
        .map(|t| BulkTeam {
            id: 1 + t as Id,
            workspace_id: WORKSPACE,
            name: format!("Team {}", t + 1),
            member_ids: agents.iter().copied().filter(|a| (*a as u64) % TEAMS == t).collect(),
        })
        .collect();
    loader.teams(&teams).await.map_err(e)?;
    let mut members: Vec<Vec<Id>> = vec![Vec::new(); CHANNELS.len()];
    for (i, a) in agents.iter().enumerate() {
        members[i % CHANNELS.len()].push(*a);
        members[(i * 3 + 1) % CHANNELS.len()].push(*a);
    }
    for (i, m) in members.iter_mut().enumerate() {
        m.sort_unstable();
        m.dedup();
        if m.is_empty() {
            m.push(agents[i % agents.len().max(1)]);
        }
    }
    let channels: Vec<BulkChannel> = CHANNELS
        .iter()
        .enumerate()
        .map(|(i, (kind, name, limit, _))| BulkChannel {
            id: 1 + i as Id,
            workspace_id: WORKSPACE,
            kind: *kind,
            name: (*name).into(),
            secret: format!("bench-secret-{i}"),
            response_time_limit_secs: *limit,
            member_ids: members[i].clone(),
            created_at: now - 400 * DAY,
        })
        .collect();
    loader.channels(&channels).await.map_err(e)?;
    let tag_names = [
        "vip",
        "mayorista",
        "reclamación",
        "devolución",
        "nuevo",
        "recurrente",
        "b2b",
        "urgente",
        "españa",
        "latam",
        "rusia",
        "newsletter",
        "moroso",
        "influencer",
        "prensa",
        "partner",
        "beta",
        "black-friday",
        "garantía",
        "factura",
        "envío-gratis",
        "premium",
        "estudiante",
        "empresa",
        "lead",
        "feedback",
        "bug",
        "spam",
        "test",
        "otros",
    ];
    let tags: Vec<BulkTag> = tag_names
        .iter()
        .enumerate()
        .map(|(i, n)| BulkTag {
            id: 1 + i as Id,
            workspace_id: WORKSPACE,
            name: (*n).into(),
            color: ["#e74c3c", "#3498db", "#2ecc71", "#f1c40f", "#9b59b6"][i % 5].into(),
            pinned: i < 3,
        })
        .collect();
    loader.tags(&tags).await.map_err(e)?;

    let mut g = Gen {
        rng: StdRng::seed_from_u64(SEED ^ 1),
        spec,
        now,
        products: product_names(),
        channel_ids: channels.iter().map(|c| c.id).collect(),
        channel_limits: channels.iter().map(|c| c.response_time_limit_secs).collect(),
        members,
        user_names,
        next_message: 1,
        next_attention: 1,
        messages_left: spec.messages,
        conversations_left: spec.conversations,
        long_left: spec.long_conversations,
        long_ids: Vec::new(),
    };
    let mut contact_terms = Vec::new();
    let mut done = 0u64;
    let mut last_report = Instant::now();
    while done < spec.conversations {
        let n = CHUNK.min((spec.conversations - done) as usize);
        let chunk = g.chunk(1 + done as Id, n);
        // A few search terms from real contacts: name fragments and phone digits.
        // Six per chunk: enough for two scenarios of 250 requests without repeating a term.
        for k in chunk.contacts.iter().step_by((n / 6).max(1)).take(6) {
            // What an operator types: part of one word of the name.
            let lower = k.name.to_lowercase();
            let words: Vec<Vec<char>> =
                lower.split(' ').map(|w| w.chars().collect::<Vec<char>>()).filter(|w| w.len() >= 4).collect();
            if !words.is_empty() {
                let word = &words[rng.random_range(0..words.len())];
                let len = rng.random_range(4..=6).min(word.len());
                let at = rng.random_range(0..=word.len() - len);
                contact_terms.push(word[at..at + len].iter().collect());
            }
            if let Some(p) = &k.phone {
                let d = charla_core::search::digits_of(p);
                if d.len() >= 7 {
                    contact_terms.push(d[d.len() - 7..].to_string());
                }
            }
        }
        loader.contacts(&chunk.contacts).await.map_err(e)?;
        loader.identities(&chunk.identities).await.map_err(e)?;
        loader.conversations(&chunk.conversations).await.map_err(e)?;
        loader.attentions(&chunk.attentions).await.map_err(e)?;
        loader.messages(&chunk.messages).await.map_err(e)?;
        done += n as u64;
        if last_report.elapsed().as_secs() >= 10 {
            println!("  {done} / {} conversations", spec.conversations);
            last_report = Instant::now();
        }
    }
    loader.finish(|step| println!("  {step}")).await.map_err(e)?;
    let _ = g.spec;

    // Full-text terms: product names of middling rank.
    let fulltext_terms: Vec<String> = (0..20).map(|i| g.products[100 + i * 40].clone()).collect();
    Ok(Facts {
        version: GENERATOR_VERSION,
        spec,
        url: url.to_string(),
        now,
        admin_email: crate::ADMIN_EMAIL.into(),
        agent_emails: (0..spec.operators.min(20)).map(|i| format!("agent{}@bench.example.com", i + 1)).collect(),
        channel_ids: channels.iter().map(|c| c.id).collect(),
        filter_tag_ids: vec![6, 8, 10, 12],
        long_conversation_ids: g.long_ids.clone(),
        contact_terms,
        fulltext_terms,
        generated_secs: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_stays_in_range_and_favours_low_ranks() {
        let mut rng = StdRng::seed_from_u64(1);
        let picks: Vec<usize> = (0..10_000).map(|_| zipf(&mut rng, 30)).collect();
        assert!(picks.iter().all(|p| *p < 30));
        let low = picks.iter().filter(|p| **p < 5).count();
        let high = picks.iter().filter(|p| **p >= 25).count();
        assert!(low > high * 2, "{low} vs {high}");
    }

    #[test]
    fn products_are_distinct_words() {
        let p = product_names();
        assert_eq!(p.len(), 2000);
        let set: std::collections::HashSet<_> = p.iter().collect();
        assert!(set.len() > 1500);
    }
}
