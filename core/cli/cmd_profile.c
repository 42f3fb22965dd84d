/* placeholder */
typedef int nono_placeholder_cmd_profile;
