// The memory plan tm_model_load made, as a flat vector of int32 words: read back from the engine itself by
// `tinyml report` on the host (hostlib/tm_host.c) and, from a module built with PLAN_DUMP=1, on an emulated
// board (tinyml.plan()), so the page can draw the arena of the arch the model will run on.
// Valid between tm_model_load and tm_model_prepare only: prepare gives the planner's lifetimes back.
//
// Layout (host/tinyml/hostlib.py decode_plan() reads it):
//   totals    9 words: n_tensors, n_nodes, n_subgraphs, n_variables, activation_bytes, persistent_bytes,
//                      state_bytes, arena_bytes, metadata_bytes
//   tensors   7 words each (engine numbering: subgraph by subgraph): arena_offset (-1: not in the arena), bytes,
//             alias (the tensor whose storage it shares, or -1), first_use, last_use (subgraph 0's node indices;
//             -1 = before the first node, n_nodes of subgraph 0 = after the last; -2 = never written), is_const,
//             type
//   nodes     10 words each (all subgraphs, in order): opcode, scratch_offset (-1: none), scratch_bytes,
//             persistent_offset, persistent_bytes, first, last (when it runs, in subgraph 0's node indices),
//             tensor_base, calls, calls_too (the subgraphs it runs, or -1: CALL_ONCE one; IF then and else;
//             WHILE cond and body)
//   subgraphs 2 words each: first_node, n_nodes
//   variables 3 words each: offset, bytes, assigned
#ifndef TM_PLAN_H
#define TM_PLAN_H

#include "tm_engine.h"

#define TM_PLAN_TOTAL_WORDS 9
#define TM_PLAN_TENSOR_WORDS 7
#define TM_PLAN_NODE_WORDS 10
#define TM_PLAN_SUBGRAPH_WORDS 2
#define TM_PLAN_VARIABLE_WORDS 3

// Words tm_plan_export writes for this loaded model.
uint32_t tm_plan_words(const tm_model_t *m);
// Write the plan into `out` (tm_plan_words(m) words).
void tm_plan_export(const tm_model_t *m, int32_t *out);

#endif
