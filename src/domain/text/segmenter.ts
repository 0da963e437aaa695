/**
 * Chinese word segmentation with jieba (@node-rs/jieba). The dictionary (~5 MB) is read on first
 * use, not at import, so modules that never segment pay nothing; `warmUpSegmenter()` lets the
 * service load it at start-up instead of on the first request.
 */
import { createRequire } from 'node:module';
import type * as JiebaModule from '@node-rs/jieba';
import type * as JiebaDictModule from '@node-rs/jieba/dict.js';
import { normalizeText } from './normalize.js';

/**
 * Hotline vocabulary the general dictionary splits badly (路灯不亮 → 路|灯不亮) or lacks.
 * A high frequency makes jieba prefer these words over its own splits.
 */
export const HOTLINE_WORDS: readonly string[] = [
  '路灯', '不亮', '噪音扰民', '停水', '停电', '停气', '欠薪', '讨薪', '拖欠工资', '占道经营', '飞线充电', '电动车',
  '充电桩', '井盖', '油烟', '物业费', '违建', '违章搭建', '广场舞', '渣土车', '网格员', '农民工', '社保卡', '医保',
  '公积金', '居住证', '供暖', '不热', '漏水', '下水道', '堵塞', '垃圾清运', '私家车', '乱停车', '共享单车', '楼道',
  '电梯', '困人', '积水', '化粪池', '冒水', '异味', '施工噪音', '夜间施工', '预付卡', '退费', '医闹', '学区', '号楼', '单元',
];

const require = createRequire(import.meta.url);
let instance: JiebaModule.Jieba | undefined;

function jieba(): JiebaModule.Jieba {
  if (instance === undefined) {
    // ESM needs the explicit file name: the package has no "exports" map for '@node-rs/jieba/dict'.
    const { Jieba } = require('@node-rs/jieba') as typeof JiebaModule;
    const { dict } = require('@node-rs/jieba/dict.js') as typeof JiebaDictModule;
    const created = Jieba.withDict(dict);
    created.loadDict(Buffer.from(HOTLINE_WORDS.map((w) => `${w} 20000 n`).join('\n')));
    instance = created;
  }
  return instance;
}

export type SegmentMode = 'precise' | 'search';

/**
 * Words of a normalised text. `search` mode also emits the shorter words inside long ones
 * (拖欠工资 → 拖欠, 工资, 拖欠工资), which is what an index and a similarity measure want.
 */
export function segment(text: string, mode: SegmentMode = 'precise'): string[] {
  const normalized = normalizeText(text);
  if (normalized === '') return [];
  return mode === 'search' ? jieba().cutForSearch(normalized, true) : jieba().cut(normalized, true);
}

export function warmUpSegmenter(): void {
  jieba();
}
