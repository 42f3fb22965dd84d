/* placeholder: being written */
typedef int nono_placeholder_profile;
