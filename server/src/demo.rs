//! The demo tenant (`fieldsync-server --demo`, `fieldsync-server seed-demo`).
//!
//! Everything is deterministic: ids are derived from names, so docs and tests can name rows.
//!
//! * Tenant slug `demo` ("Demo Beverages Co. (Wuhan)"), id [`demo_tenant_id`].
//! * Users, all with password `demo1234`: `sup1` (supervisor, S001), `rep1` (rep, R001),
//!   `rep2` (rep, R002), `merch1` (merchandiser, M001), `mgr1` (manager, M100),
//!   `admin` (admin, A001).
//! * 30 stores in Wuhan, within about 13 km of 30.5928 N 114.3055 E: `NKA-001`..`NKA-008`,
//!   `RKA-001`..`RKA-008`, `LKA-001`..`LKA-008`, `OTH-001`..`OTH-006`; geofences 80-200 m,
//!   delivery lead 1-3 days.
//! * 50 products, SKUs such as `COLA-330`, `TEA-500`, `WATER-550`; floor price 85 % of list.
//! * A credit snapshot for every store, as of the day before seeding, except:
//!   - **overdue debt** (orders blocked): `NKA-003`, `RKA-005`, `LKA-002`, `OTH-004`;
//!   - **stale snapshot** (as of 45 days before seeding; orders go to approval): `LKA-006`;
//!   - **at its credit limit** (receivables 98 % of limit, no overdue): `OTH-006`.
//! * Organisation: region `武汉 Wuhan` (manager `mgr1`); team `武汉KA一组 Wuhan KA Team 1`
//!   in that region, supervisor `sup1`, members `rep1`, `rep2`, `merch1`; territories
//!   `rep1 NKA+RKA` (`NKA-*`, `RKA-*`; rep1), `rep2 LKA+OTH` (`LKA-*`, `OTH-*`; rep2) and
//!   `merch1 NKA` (`NKA-*`; merch1). Ids from [`demo_region_id`], [`demo_team_id`],
//!   [`demo_territory_id`].

use fieldsync_shared::master::{Channel, CreditSnapshot, Grade, Product, Role, Store, UserProfile};
use fieldsync_shared::{
    Date, Money, ParseError, PersonCode, Position, Sku, StoreCode, StoreId, TenantId, Timestamp,
    UserId,
};
use sha2::Digest;
use uuid::Uuid;

use crate::store::directory::Tenant;
use crate::store::{Store as DataStore, StoreError};

pub const DEMO_TENANT: &str = "demo";
pub const DEMO_PASSWORD: &str = "demo1234";
/// Store codes with overdue receivables.
pub const OVERDUE_STORES: &[&str] = &["NKA-003", "RKA-005", "LKA-002", "OTH-004"];
/// Store code whose credit snapshot is stale.
pub const STALE_CREDIT_STORE: &str = "LKA-006";
/// Store code whose receivables are at 98 % of its credit limit.
pub const AT_LIMIT_STORE: &str = "OTH-006";
/// Days before seeding of the stale snapshot.
pub const STALE_DAYS: i64 = 45;

const CENTER_LAT_E4: i64 = 305_928;
const CENTER_LON_E4: i64 = 1_143_055;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("hashing the demo password failed: {0}")]
    Password(String),
    #[error("demo data does not parse (a bug): {0}")]
    Data(#[from] ParseError),
}

/// What [`seed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    Created,
    AlreadyPresent,
}

/// A stable UUID (version 8) derived from `name`.
fn demo_uuid(name: &str) -> Uuid {
    let digest = sha2::Sha256::digest(format!("fieldsync-demo/{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

pub fn demo_tenant_id() -> TenantId {
    TenantId(demo_uuid("tenant"))
}

pub fn demo_user_id(username: &str) -> UserId {
    UserId(demo_uuid(&format!("user/{username}")))
}

/// The id of the demo store with `code`, e.g. `NKA-001`.
pub fn demo_store_id(code: &str) -> StoreId {
    StoreId(demo_uuid(&format!("store/{code}")))
}

pub const DEMO_REGION: &str = "武汉 Wuhan";
pub const DEMO_TEAM: &str = "武汉KA一组 Wuhan KA Team 1";
/// (territory name, store code prefixes, member usernames)
pub const DEMO_TERRITORIES: &[(&str, &[&str], &[&str])] = &[
    ("rep1 NKA+RKA", &["NKA-", "RKA-"], &["rep1"]),
    ("rep2 LKA+OTH", &["LKA-", "OTH-"], &["rep2"]),
    ("merch1 NKA", &["NKA-"], &["merch1"]),
];

pub fn demo_region_id() -> Uuid {
    demo_uuid("region/wuhan")
}

pub fn demo_team_id() -> Uuid {
    demo_uuid("team/sup1")
}

/// The id of the demo territory named `name` (see [`DEMO_TERRITORIES`]).
pub fn demo_territory_id(name: &str) -> Uuid {
    demo_uuid(&format!("territory/{name}"))
}

/// (username, role, code, display name)
const USERS: &[(&str, Role, &str, &str)] = &[
    ("sup1", Role::Supervisor, "S001", "张伟 Zhang Wei"),
    ("rep1", Role::Rep, "R001", "李娜 Li Na"),
    ("rep2", Role::Rep, "R002", "王强 Wang Qiang"),
    ("merch1", Role::Merchandiser, "M001", "刘洋 Liu Yang"),
    ("mgr1", Role::Manager, "M100", "赵敏 Zhao Min"),
    // Created last: its presence means a previous seed finished.
    ("admin", Role::Admin, "A001", "陈静 Chen Jing"),
];

pub fn users() -> Result<Vec<UserProfile>, ParseError> {
    USERS
        .iter()
        .map(|(username, role, code, name)| {
            Ok(UserProfile {
                id: demo_user_id(username),
                tenant_id: demo_tenant_id(),
                username: username.to_string(),
                display_name: name.to_string(),
                role: *role,
                code: PersonCode::parse(code)?,
            })
        })
        .collect()
}

/// (code, name, grade, address)
const STORES: &[(&str, &str, Grade, &str)] = &[
    (
        "NKA-001",
        "沃尔玛 光谷店 Walmart Guanggu",
        Grade::A,
        "洪山区 珞喻路 889号 / 889 Luoyu Rd, Hongshan",
    ),
    (
        "NKA-002",
        "家乐福 汉口店 Carrefour Hankou",
        Grade::A,
        "江汉区 解放大道 690号 / 690 Jiefang Ave, Jianghan",
    ),
    (
        "NKA-003",
        "永辉超市 徐东店 Yonghui Xudong",
        Grade::A,
        "武昌区 徐东大街 18号 / 18 Xudong St, Wuchang",
    ),
    (
        "NKA-004",
        "大润发 汉阳店 RT-Mart Hanyang",
        Grade::A,
        "汉阳区 龙阳大道 36号 / 36 Longyang Ave, Hanyang",
    ),
    (
        "NKA-005",
        "华润万家 青山店 CR Vanguard Qingshan",
        Grade::B,
        "青山区 和平大道 1201号 / 1201 Heping Ave, Qingshan",
    ),
    (
        "NKA-006",
        "永旺 金银湖店 AEON Jinyinhu",
        Grade::A,
        "东西湖区 金山大道 1号 / 1 Jinshan Ave, Dongxihu",
    ),
    (
        "NKA-007",
        "麦德龙 沌口店 Metro Zhuankou",
        Grade::B,
        "汉南区 东风大道 58号 / 58 Dongfeng Ave, Zhuankou",
    ),
    (
        "NKA-008",
        "盒马鲜生 街道口店 Hema Jiedaokou",
        Grade::B,
        "洪山区 珞狮路 2号 / 2 Luoshi Rd, Hongshan",
    ),
    (
        "RKA-001",
        "中百仓储 中南店 Zhongbai Warehouse Zhongnan",
        Grade::A,
        "武昌区 中南路 7号 / 7 Zhongnan Rd, Wuchang",
    ),
    (
        "RKA-002",
        "中百仓储 后湖店 Zhongbai Warehouse Houhu",
        Grade::B,
        "江岸区 后湖大道 111号 / 111 Houhu Ave, Jiang'an",
    ),
    (
        "RKA-003",
        "武商量贩 王家湾店 Wushang Wangjiawan",
        Grade::A,
        "汉阳区 龙阳大道 特6号 / 6 Longyang Ave, Hanyang",
    ),
    (
        "RKA-004",
        "武商量贩 鲁巷店 Wushang Luxiang",
        Grade::B,
        "洪山区 鲁磨路 28号 / 28 Lumo Rd, Hongshan",
    ),
    (
        "RKA-005",
        "中百超市 积玉桥店 Zhongbai Jiyuqiao",
        Grade::B,
        "武昌区 和平大道 340号 / 340 Heping Ave, Wuchang",
    ),
    (
        "RKA-006",
        "中百超市 常青店 Zhongbai Changqing",
        Grade::C,
        "江汉区 常青路 45号 / 45 Changqing Rd, Jianghan",
    ),
    (
        "RKA-007",
        "武商量贩 南湖店 Wushang Nanhu",
        Grade::B,
        "洪山区 南湖大道 66号 / 66 Nanhu Ave, Hongshan",
    ),
    (
        "RKA-008",
        "中百仓储 钟家村店 Zhongbai Warehouse Zhongjiacun",
        Grade::B,
        "汉阳区 汉阳大道 140号 / 140 Hanyang Ave, Hanyang",
    ),
    (
        "LKA-001",
        "汉味生活超市 江汉路店 Hanwei Life Jianghan Rd",
        Grade::B,
        "江汉区 江汉路 122号 / 122 Jianghan Rd, Jianghan",
    ),
    (
        "LKA-002",
        "长江便民超市 武胜路店 Changjiang Mart Wusheng Rd",
        Grade::B,
        "硚口区 武胜路 58号 / 58 Wusheng Rd, Qiaokou",
    ),
    (
        "LKA-003",
        "楚天优选 宝丰路店 Chutian Select Baofeng Rd",
        Grade::C,
        "硚口区 宝丰路 9号 / 9 Baofeng Rd, Qiaokou",
    ),
    (
        "LKA-004",
        "江城鲜生活 关山店 Jiangcheng Fresh Guanshan",
        Grade::B,
        "东湖高新区 关山大道 355号 / 355 Guanshan Ave, East Lake",
    ),
    (
        "LKA-005",
        "汉味生活超市 首义店 Hanwei Life Shouyi",
        Grade::C,
        "武昌区 首义路 76号 / 76 Shouyi Rd, Wuchang",
    ),
    (
        "LKA-006",
        "长江便民超市 古田店 Changjiang Mart Gutian",
        Grade::C,
        "硚口区 古田二路 21号 / 21 Gutian 2nd Rd, Qiaokou",
    ),
    (
        "LKA-007",
        "楚天优选 沙湖店 Chutian Select Shahu",
        Grade::B,
        "武昌区 友谊大道 508号 / 508 Youyi Ave, Wuchang",
    ),
    (
        "LKA-008",
        "江城鲜生活 杨春湖店 Jiangcheng Fresh Yangchunhu",
        Grade::C,
        "洪山区 团结大道 1020号 / 1020 Tuanjie Ave, Hongshan",
    ),
    (
        "OTH-001",
        "王记副食 Wang's Groceries",
        Grade::C,
        "江岸区 黎黄陂路 17号 / 17 Lihuangpi Rd, Jiang'an",
    ),
    (
        "OTH-002",
        "李家便利店 Li's Convenience",
        Grade::C,
        "武昌区 粮道街 63号 / 63 Liangdao St, Wuchang",
    ),
    (
        "OTH-003",
        "华师校园超市 CCNU Campus Store",
        Grade::B,
        "洪山区 珞喻路 152号 / 152 Luoyu Rd, Hongshan",
    ),
    (
        "OTH-004",
        "汉正街 批发部 Hanzheng St Wholesale",
        Grade::B,
        "硚口区 汉正街 300号 / 300 Hanzheng St, Qiaokou",
    ),
    (
        "OTH-005",
        "昙华林 小卖部 Tanhualin Kiosk",
        Grade::C,
        "武昌区 昙华林 88号 / 88 Tanhualin, Wuchang",
    ),
    (
        "OTH-006",
        "客运站 便利店 Coach Station Mart",
        Grade::C,
        "江汉区 发展大道 164号 / 164 Fazhan Ave, Jianghan",
    ),
];

fn channel_of(code: &str) -> Channel {
    match &code[..3] {
        "NKA" => Channel::Nka,
        "RKA" => Channel::Rka,
        "LKA" => Channel::Lka,
        _ => Channel::Other,
    }
}

pub fn stores() -> Result<Vec<Store>, ParseError> {
    STORES
        .iter()
        .enumerate()
        .map(|(i, (code, name, grade, address))| {
            let channel = channel_of(code);
            // A fixed scatter around the centre: at most ~10 km north-south, ~8.5 km east-west.
            let dlat = ((i * 7) % 19) as i64 - 9;
            let dlon = ((i * 11) % 17) as i64 - 8;
            // In units of 1e-4 degree, so coordinates print as short decimals.
            let location = Position::new(
                (CENTER_LAT_E4 + dlat * 100) as f64 / 1e4,
                (CENTER_LON_E4 + dlon * 110) as f64 / 1e4,
            )?;
            let (geofence_radius_m, delivery_lead_days) = match (channel, grade) {
                (Channel::Nka, Grade::A) => (200, 3),
                (Channel::Nka, _) => (150, 3),
                (Channel::Rka, _) => (120, 2),
                (Channel::Lka, _) => (100, 2),
                (Channel::Other, _) => (80, 1),
            };
            Ok(Store {
                id: demo_store_id(code),
                code: StoreCode::parse(code)?,
                name: name.to_string(),
                channel,
                grade: *grade,
                address: format!("{address}, 武汉 Wuhan"),
                location,
                geofence_radius_m,
                delivery_lead_days,
            })
        })
        .collect()
}

/// (sku, name, case pack, sold by case, shelf life days, list price in fen)
const PRODUCTS: &[(&str, &str, u32, bool, u32, i64)] = &[
    ("COLA-330", "可乐 Cola 330ml can", 24, true, 360, 300),
    ("COLA-500", "可乐 Cola 500ml PET", 24, false, 360, 350),
    ("COLA-1250", "可乐 Cola 1.25L", 12, false, 360, 650),
    ("COLA-2000", "可乐 Cola 2L", 6, false, 360, 850),
    (
        "COLA-ZERO-330",
        "零度可乐 Cola Zero 330ml can",
        24,
        true,
        360,
        300,
    ),
    (
        "COLA-ZERO-500",
        "零度可乐 Cola Zero 500ml PET",
        24,
        false,
        360,
        350,
    ),
    (
        "LEMON-330",
        "柠檬汽水 Lemon soda 330ml can",
        24,
        true,
        360,
        300,
    ),
    (
        "LEMON-500",
        "柠檬汽水 Lemon soda 500ml PET",
        24,
        false,
        360,
        350,
    ),
    (
        "ORANGE-500",
        "橙味汽水 Orange soda 500ml PET",
        24,
        false,
        360,
        350,
    ),
    (
        "SODA-350",
        "苏打气泡水 Sparkling water 350ml",
        24,
        false,
        360,
        450,
    ),
    (
        "TEA-500",
        "冰红茶 Iced lemon tea 500ml",
        24,
        false,
        270,
        400,
    ),
    ("TEA-GREEN-500", "绿茶 Green tea 500ml", 24, false, 270, 400),
    (
        "TEA-JASMINE-500",
        "茉莉花茶 Jasmine tea 500ml",
        24,
        false,
        270,
        400,
    ),
    (
        "TEA-OOLONG-500",
        "乌龙茶 Oolong tea 500ml",
        24,
        false,
        270,
        450,
    ),
    ("TEA-1000", "冰红茶 Iced lemon tea 1L", 12, false, 270, 600),
    ("MILKTEA-350", "奶茶 Milk tea 350ml", 12, false, 180, 550),
    (
        "WATER-550",
        "矿泉水 Mineral water 550ml",
        24,
        true,
        720,
        200,
    ),
    (
        "WATER-1500",
        "矿泉水 Mineral water 1.5L",
        12,
        true,
        720,
        400,
    ),
    ("WATER-4500", "矿泉水 Mineral water 4.5L", 6, true, 720, 900),
    (
        "JUICE-ORANGE-450",
        "橙汁 Orange juice 450ml",
        12,
        false,
        270,
        500,
    ),
    (
        "JUICE-APPLE-450",
        "苹果汁 Apple juice 450ml",
        12,
        false,
        270,
        500,
    ),
    (
        "JUICE-GRAPE-450",
        "葡萄汁 Grape juice 450ml",
        12,
        false,
        270,
        500,
    ),
    (
        "JUICE-PEACH-450",
        "桃汁 Peach juice 450ml",
        12,
        false,
        270,
        500,
    ),
    (
        "JUICE-ORANGE-1500",
        "橙汁 Orange juice 1.5L",
        6,
        false,
        270,
        1200,
    ),
    (
        "COFFEE-280",
        "罐装咖啡 Canned coffee 280ml",
        24,
        true,
        360,
        600,
    ),
    (
        "COFFEE-LATTE-270",
        "拿铁 Bottled latte 270ml",
        12,
        false,
        180,
        700,
    ),
    (
        "ENERGY-250",
        "能量饮料 Energy drink 250ml can",
        24,
        true,
        540,
        600,
    ),
    (
        "ENERGY-500",
        "能量饮料 Energy drink 500ml",
        12,
        false,
        540,
        800,
    ),
    (
        "SPORT-600",
        "运动饮料 Sports drink 600ml",
        24,
        false,
        360,
        500,
    ),
    (
        "SPORT-LEMON-600",
        "运动饮料柠檬味 Sports drink lemon 600ml",
        24,
        false,
        360,
        500,
    ),
    (
        "HERBAL-310",
        "凉茶 Herbal tea 310ml can",
        24,
        true,
        720,
        350,
    ),
    (
        "HERBAL-500",
        "凉茶 Herbal tea 500ml PET",
        24,
        false,
        720,
        450,
    ),
    ("COCO-245", "椰汁 Coconut milk 245ml", 24, true, 360, 400),
    ("SOY-250", "豆奶 Soy milk 250ml", 24, false, 180, 300),
    (
        "YOGURT-200",
        "酸奶饮品 Yogurt drink 200ml",
        24,
        false,
        90,
        450,
    ),
    (
        "YOGURT-450",
        "酸奶饮品 Yogurt drink 450ml",
        12,
        false,
        90,
        800,
    ),
    ("MILK-250", "纯牛奶 UHT milk 250ml", 24, true, 180, 350),
    ("MILK-1000", "纯牛奶 UHT milk 1L", 12, false, 180, 1100),
    (
        "NOODLE-BEEF-105",
        "红烧牛肉面 Beef instant noodles 105g",
        12,
        false,
        180,
        450,
    ),
    (
        "NOODLE-PORK-105",
        "酸菜肉丝面 Pickled pork noodles 105g",
        12,
        false,
        180,
        450,
    ),
    ("NOODLE-CUP-80", "杯面 Cup noodles 80g", 12, false, 180, 550),
    (
        "NOODLE-REGANMIAN-120",
        "热干面 Hot dry noodles 120g",
        12,
        false,
        180,
        600,
    ),
    ("CHIPS-70", "薯片 Potato chips 70g", 24, false, 270, 750),
    (
        "CHIPS-SPICY-70",
        "麻辣薯片 Spicy potato chips 70g",
        24,
        false,
        270,
        750,
    ),
    (
        "CRACKER-100",
        "苏打饼干 Soda crackers 100g",
        24,
        false,
        300,
        500,
    ),
    (
        "COOKIE-CHOC-150",
        "巧克力曲奇 Chocolate cookies 150g",
        12,
        false,
        300,
        900,
    ),
    ("WAFER-200", "威化饼 Wafers 200g", 12, false, 300, 1000),
    (
        "NUTS-MIX-200",
        "每日坚果 Mixed nuts 200g",
        12,
        false,
        240,
        2500,
    ),
    ("JERKY-50", "牛肉干 Beef jerky 50g", 24, false, 240, 1500),
    ("GUM-40", "口香糖 Chewing gum 40g", 24, false, 720, 600),
];

pub fn products() -> Result<Vec<Product>, ParseError> {
    PRODUCTS
        .iter()
        .map(
            |(sku, name, case_pack, sold_by_case, shelf_life_days, list)| {
                Ok(Product {
                    sku: Sku::parse(sku)?,
                    name: name.to_string(),
                    case_pack: *case_pack,
                    sold_by_case: *sold_by_case,
                    shelf_life_days: *shelf_life_days,
                    list_price: Money(*list),
                    // 85 % of list, rounded to the nearest fen.
                    floor_price: Money((list * 85 + 50) / 100),
                })
            },
        )
        .collect()
}

/// Credit snapshots for every demo store, dated relative to `today` (see the module doc).
pub fn credit(today: Date) -> Vec<CreditSnapshot> {
    STORES
        .iter()
        .enumerate()
        .map(|(i, (code, ..))| {
            let limit: i64 = match channel_of(code) {
                Channel::Nka => 50_000_000, // 500 000 yuan
                Channel::Rka => 20_000_000,
                Channel::Lka => 5_000_000,
                Channel::Other => 1_000_000,
            };
            let pct = ((i * 13) % 60 + 10) as i64; // 10..69 % of the limit
            let mut receivables = limit * pct / 100;
            let mut overdue = 0;
            if OVERDUE_STORES.contains(code) {
                overdue = receivables / 4;
            }
            if *code == AT_LIMIT_STORE {
                receivables = limit * 98 / 100;
            }
            if *code == "OTH-004" {
                // Round figure for the docs: 3 500.00 yuan overdue.
                overdue = 350_000;
            }
            let as_of = if *code == STALE_CREDIT_STORE {
                today.add_days(-STALE_DAYS)
            } else {
                today.add_days(-1)
            };
            CreditSnapshot {
                store_id: demo_store_id(code),
                credit_limit: Money(limit),
                receivables: Money(receivables),
                overdue: Money(overdue),
                as_of,
            }
        })
        .collect()
}

/// Creates the demo tenant and its data. Does nothing if a previous seed completed (the tenant
/// and its last-created user exist); a seed interrupted half-way is completed.
pub async fn seed(store: &dyn DataStore) -> Result<SeedOutcome, DemoError> {
    let tenant_id = demo_tenant_id();
    let existing = store.find_tenant_by_slug(DEMO_TENANT).await?;
    if existing.is_some()
        && store
            .find_user_by_username(tenant_id, "admin")
            .await?
            .is_some()
    {
        // Tenants seeded before the organisation (or the manager) existed get it now.
        seed_users(store).await?;
        seed_organisation(store).await?;
        return Ok(SeedOutcome::AlreadyPresent);
    }
    if existing.is_none() {
        let tenant = Tenant {
            id: tenant_id,
            slug: DEMO_TENANT.to_string(),
            name: "Demo Beverages Co. (Wuhan)".to_string(),
        };
        match store.create_tenant(&tenant).await {
            // Another process seeding at the same time: carry on idempotently.
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    store.upsert_stores(tenant_id, &stores()?).await?;
    store.upsert_products(tenant_id, &products()?).await?;
    store
        .upsert_credit(tenant_id, &credit(Timestamp::now().utc_date()))
        .await?;
    seed_users(store).await?;
    seed_organisation(store).await?;
    tracing::info!(tenant = DEMO_TENANT, "demo tenant seeded");
    Ok(SeedOutcome::Created)
}

/// Creates the demo users that are missing (the password is hashed only if one is).
async fn seed_users(store: &dyn DataStore) -> Result<(), DemoError> {
    let tenant_id = demo_tenant_id();
    let mut hash = None;
    for user in users()? {
        if store
            .find_user_by_username(tenant_id, &user.username)
            .await?
            .is_some()
        {
            continue;
        }
        if hash.is_none() {
            hash = Some(
                crate::auth::hash_password(DEMO_PASSWORD.to_string())
                    .await
                    .map_err(|e| DemoError::Password(e.to_string()))?,
            );
        }
        match store
            .create_user(&user, hash.as_deref().unwrap_or_default())
            .await
        {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The demo region, team and territories; each is created if absent (idempotent: fixed ids,
/// a concurrent seeder's row is accepted).
async fn seed_organisation(store: &dyn DataStore) -> Result<(), DemoError> {
    use crate::store::organisation::{Region, Team, Territory};
    let tenant_id = demo_tenant_id();
    let ok = |r: Result<(), StoreError>| match r {
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(DemoError::Store(e)),
    };
    let region = Region {
        id: demo_region_id(),
        tenant_id,
        name: DEMO_REGION.to_string(),
        manager_id: Some(demo_user_id("mgr1")),
    };
    match store.get_region(tenant_id, demo_region_id()).await? {
        None => ok(store.create_region(&region).await)?,
        // Seeded before the demo had a manager.
        Some(existing) if existing.manager_id.is_none() => {
            store
                .update_region(&Region {
                    name: existing.name,
                    ..region
                })
                .await?
        }
        Some(_) => {}
    }
    if store.get_team(tenant_id, demo_team_id()).await?.is_none() {
        let mut members: Vec<UserId> = ["rep1", "rep2", "merch1"]
            .iter()
            .map(|u| demo_user_id(u))
            .collect();
        members.sort();
        ok(store
            .create_team(&Team {
                id: demo_team_id(),
                tenant_id,
                name: DEMO_TEAM.to_string(),
                supervisor_id: Some(demo_user_id("sup1")),
                region_id: Some(demo_region_id()),
                members,
            })
            .await)?;
    }
    for (name, prefixes, users) in DEMO_TERRITORIES {
        let id = demo_territory_id(name);
        if store.get_territory(tenant_id, id).await?.is_some() {
            continue;
        }
        let mut store_ids: Vec<StoreId> = STORES
            .iter()
            .filter(|(code, ..)| prefixes.iter().any(|p| code.starts_with(p)))
            .map(|(code, ..)| demo_store_id(code))
            .collect();
        store_ids.sort();
        let mut user_ids: Vec<UserId> = users.iter().map(|u| demo_user_id(u)).collect();
        user_ids.sort();
        ok(store
            .create_territory(&Territory {
                id,
                tenant_id,
                name: name.to_string(),
                store_ids,
                user_ids,
            })
            .await)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_data_has_the_documented_shape() {
        let stores = stores().unwrap();
        assert_eq!(stores.len(), 30);
        let products = products().unwrap();
        assert_eq!(products.len(), 50);
        assert!(products.iter().all(|p| [6, 12, 24].contains(&p.case_pack)));
        assert!(products
            .iter()
            .all(|p| (90..=720).contains(&p.shelf_life_days)));
        assert!(products
            .iter()
            .all(|p| p.floor_price.0 * 100 / p.list_price.0 >= 84));
        let centre = Position::new(30.5928, 114.3055).unwrap();
        for s in &stores {
            assert!(
                s.location.distance_m(&centre) < 15_000.0,
                "{} too far",
                s.code
            );
            assert!((80..=200).contains(&s.geofence_radius_m));
            assert!((1..=3).contains(&s.delivery_lead_days));
        }
        let today = Date::parse("2026-03-10").unwrap();
        let credit = credit(today);
        assert_eq!(credit.len(), 30);
        let overdue: Vec<StoreId> = credit
            .iter()
            .filter(|c| c.overdue.0 > 0)
            .map(|c| c.store_id)
            .collect();
        let expected: Vec<StoreId> = OVERDUE_STORES.iter().map(|c| demo_store_id(c)).collect();
        assert_eq!(overdue.len(), expected.len());
        assert!(expected.iter().all(|id| overdue.contains(id)));
        let stale: Vec<_> = credit
            .iter()
            .filter(|c| c.as_of < today.add_days(-30))
            .collect();
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].store_id, demo_store_id(STALE_CREDIT_STORE));
    }

    #[test]
    fn ids_are_stable() {
        assert_eq!(demo_store_id("NKA-001"), demo_store_id("NKA-001"));
        assert_ne!(demo_store_id("NKA-001"), demo_store_id("NKA-002"));
        assert_eq!(demo_tenant_id(), demo_tenant_id());
    }
}
