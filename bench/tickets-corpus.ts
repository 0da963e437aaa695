/**
 * Realistic 12345 request text for the ticket benchmarks: 24 templates over the common topics
 * (路灯, 噪音, 停水, 欠薪, 物业, 占道经营, …) with slot fillers for districts, streets,
 * communities, times and details, and the queries a hotline agent types. Seeded, so runs repeat.
 */

/** Mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

export const DISTRICTS = [
  { name: '上城区', code: '330102' }, { name: '拱墅区', code: '330105' }, { name: '西湖区', code: '330106' }, { name: '滨江区', code: '330108' },
  { name: '萧山区', code: '330109' }, { name: '余杭区', code: '330110' }, { name: '临平区', code: '330113' }, { name: '钱塘区', code: '330114' },
] as const;
const STREETS = ['文三路', '教工路', '莫干山路', '湖墅南路', '凤起路', '解放路', '江南大道', '滨盛路', '市心路', '文一西路', '东新路', '古墩路', '天目山路', '延安路', '建国北路', '秋涛路', '德胜路', '丰潭路', '留和路', '西溪路'];
const COMMUNITIES = ['幸福小区', '翠苑二区', '和睦新村', '朝晖六区', '采荷新村', '景芳三区', '东方郡', '阳光家园', '金色海岸', '紫金港花园', '闻涛苑', '星光大道公寓', '南苑小区', '桃源新村', '明月嘉苑', '绿城桂花园'];
const SHOPS = ['烧烤店', '餐馆', '水果店', '健身房', 'KTV', '棋牌室', '洗车店', '小吃店', '培训机构', '理发店'];
const COMPANIES = ['某建筑工程公司', '某装修公司', '某物流公司', '某餐饮管理公司', '某劳务派遣公司', '某电子厂'];
const TIMES = ['每天晚上十点以后', '凌晨两三点', '最近一个星期', '这几天', '从上个月开始', '每天早上六点', '周末', '半夜'];
const DAYS = ['两天', '三天', '一个星期', '十多天', '半个月', '一个多月'];
const FLOORS = ['3号楼', '5号楼', '7幢', '12幢', '2单元', '9号楼1单元'];
const AMOUNTS = ['八千多元', '两万元', '三个月工资', '一万五千元', '四千元'];
const NUM = (r: () => number, a: number, b: number) => String(a + Math.floor(r() * (b - a + 1)));

type Slots = Record<string, (r: () => number) => string>;
const S: Slots = {
  street: (r) => pick(r, STREETS),
  community: (r) => pick(r, COMMUNITIES),
  shop: (r) => pick(r, SHOPS),
  company: (r) => pick(r, COMPANIES),
  time: (r) => pick(r, TIMES),
  days: (r) => pick(r, DAYS),
  floor: (r) => pick(r, FLOORS),
  amount: (r) => pick(r, AMOUNTS),
  no: (r) => NUM(r, 1, 399),
};

/** [type, title, content] with {slots}. */
export const TEMPLATES: readonly (readonly [string, string, string])[] = [
  ['complaint', '{community}路灯不亮', '{community}{floor}门口的路灯已经坏了{days}，晚上出行很不方便，老人孩子容易摔倒，请尽快维修。'],
  ['complaint', '{street}路灯损坏', '{street}{no}号附近有好几盏路灯不亮，晚上一片漆黑，存在安全隐患。'],
  ['complaint', '工地夜间施工噪音扰民', '{community}旁边的建筑工地{time}还在施工，机器轰鸣噪音很大，严重影响居民休息，希望有关部门查处。'],
  ['complaint', '{shop}噪音扰民', '{street}{no}号的{shop}{time}音响开得很大，噪音扰民，多次沟通无果。'],
  ['help', '小区突然停水', '{community}{floor}{time}突然停水，没有任何通知，家里老人做饭都成问题，请问什么时候恢复供水。'],
  ['help', '停电咨询', '{community}{floor}从今天下午开始停电，物业说不清楚原因，冰箱里的东西都要坏了，请帮忙联系供电部门。'],
  ['complaint', '拖欠农民工工资', '我在{company}承建的{street}项目干活，老板拖欠工资{amount}，已经{days}没有结算，要求帮忙讨薪。'],
  ['report', '欠薪问题', '{company}拖欠我们十几个工人的工资{amount}，找了好多次都说没钱，希望劳动监察部门介入。'],
  ['complaint', '占道经营', '{street}{no}号附近有流动摊贩占道经营，{time}把人行道都占满了，行人只能走机动车道。'],
  ['complaint', '{shop}油烟扰民', '{community}楼下的{shop}油烟直排，{time}整栋楼都是油烟味，窗户都不敢开。'],
  ['complaint', '物业不作为', '{community}物业公司收了物业费却不管事，{floor}电梯坏了{days}没人修，楼道垃圾也没人清运。'],
  ['help', '电梯困人', '{community}{floor}的电梯经常出故障，{time}还发生过困人事件，请特种设备部门检查。'],
  ['complaint', '井盖缺失', '{street}{no}号门口的井盖缺失了，路过的人很容易掉下去，存在很大的安全隐患。'],
  ['complaint', '道路积水', '{street}一下雨就严重积水，{time}积水没过脚踝，下水道堵塞，请市政部门疏通。'],
  ['complaint', '违章搭建', '{community}{floor}顶楼业主违章搭建阳光房，影响楼上楼下安全，请城管部门处理。'],
  ['complaint', '乱停车', '{community}门口私家车乱停车，{time}把消防通道都堵了，发生火灾后果不堪设想。'],
  ['complaint', '共享单车乱停放', '{street}地铁站出口共享单车乱停乱放，堵住了盲道和人行道，请运营企业清理。'],
  ['complaint', '飞线充电', '{community}{floor}有住户从楼上拉电线给电动车飞线充电，存在火灾隐患，物业劝阻无效。'],
  ['consultation', '社保卡补办', '请问社保卡丢了去哪里补办，需要带什么材料，在{street}附近有没有办理点？'],
  ['consultation', '公积金提取', '想咨询一下租房提取公积金需要什么手续，能不能在网上办理，多久到账？'],
  ['consultation', '居住证办理', '外地户口在{district}租房，想办理居住证，请问需要哪些材料，去哪个派出所办理？'],
  ['complaint', '预付卡退费难', '在{street}的{shop}办了预付卡，现在店铺关门了，余额{amount}无法退费，老板联系不上。'],
  ['suggestion', '建议增设公交线路', '{community}附近没有直达地铁站的公交车，居民出行很不方便，建议在{street}增设公交线路。'],
  ['help', '供暖不热', '{community}{floor}今年冬天暖气一直不热，室内温度只有十几度，多次报修没有人来处理。'],
  ['complaint', '垃圾清运不及时', '{community}垃圾桶已经{days}没人清运了，垃圾堆满散发异味，招来很多苍蝇蚊子。'],
  ['complaint', '广场舞噪音', '{community}中心广场{time}跳广场舞音响声音太大，噪音扰民，影响学生学习和老人休息。'],
];

export interface GeneratedRequest {
  type: string;
  title: string;
  content: string;
  district: (typeof DISTRICTS)[number];
  address: string;
  areaCode: string;
}

function fill(text: string, r: () => number, district: string): string {
  return text.replace(/\{(\w+)\}/g, (_, slot: string) => (slot === 'district' ? district : S[slot]!(r)));
}

export function generateRequest(r: () => number): GeneratedRequest {
  const [type, title, content] = pick(r, TEMPLATES);
  const district = pick(r, DISTRICTS);
  // The street code and the fillers of title and content are drawn with the same random stream.
  const street = pick(r, STREETS);
  return {
    type,
    title: fill(title, r, district.name),
    content: fill(content, r, district.name),
    district,
    address: `${district.name}${street}${NUM(r, 1, 399)}号`,
    areaCode: `${district.code}${NUM(r, 1, 12).padStart(3, '0')}`,
  };
}

/** What agents type into the search box: a topic, sometimes with a place. */
export const QUERY_TOPICS = [
  '路灯不亮', '路灯坏了', '噪音扰民', '夜间施工', '工地噪音', '停水', '没水', '停电', '拖欠工资', '欠薪', '讨薪', '占道经营', '油烟扰民',
  '物业费', '电梯故障', '电梯困人', '井盖缺失', '道路积水', '下水道堵塞', '违章搭建', '乱停车', '消防通道', '共享单车', '飞线充电',
  '社保卡补办', '公积金提取', '居住证', '预付卡退费', '公交线路', '暖气不热', '供暖', '垃圾清运', '广场舞', '烧烤店', '流动摊贩',
];

export function generateQuery(r: () => number): string {
  const topic = pick(r, QUERY_TOPICS);
  const roll = r();
  if (roll < 0.25) return `${pick(r, COMMUNITIES)}${topic}`;
  if (roll < 0.4) return `${pick(r, STREETS)}${topic}`;
  return topic;
}
