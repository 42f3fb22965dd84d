/* placeholder: being written */
typedef int nono_placeholder_jsonc;
